using CapiMiddleware.Events;

namespace CapiMiddleware;

/// <summary>
/// The conversion that the current request will report, once its action succeeds. Get it with
/// <see cref="MetaConversionsHttpContextExtensions.MetaConversion(Microsoft.AspNetCore.Http.HttpContext)"/> inside an
/// action marked <see cref="MetaConversionAttribute"/>, and describe what happened: the order number as the event ID,
/// value, products, and who bought.
/// </summary>
public sealed class ConversionEventBuilder
{
    private readonly string? _browserEventId;
    private string? _eventId;
    private string? _generatedId;

    internal ConversionEventBuilder(string eventName, string? browserEventId)
    {
        EventName = eventName;
        _browserEventId = browserEventId;
    }

    /// <summary>The event's name, such as <c>Purchase</c>.</summary>
    public string EventName { get; }

    /// <summary>
    /// The event ID shared by the Pixel's copy and the server's copy: the one given to <see cref="UseEventId(string)"/>
    /// if any; else, where this conversion accepts browser event IDs (<see cref="AcceptBrowserEventId"/>), the one the
    /// snippet sent with the request (<c>X-Meta-Event-Id</c>); else a random one.
    /// </summary>
    public string EventId => _eventId ?? AcceptedBrowserEventId ?? (_generatedId ??= EventIds.NewId());

    /// <summary>Which side chose <see cref="EventId"/>.</summary>
    internal EventIdSource EventIdSource =>
        _eventId is not null ? EventIdSource.Server : AcceptedBrowserEventId is not null ? EventIdSource.Browser : EventIdSource.Generated;

    /// <summary>Who did it: raw values, normalized and hashed by the library on the way to Meta.</summary>
    public UserData User { get; } = new();

    /// <summary>What it was worth and what it was about; handed to the Pixel too.</summary>
    public CustomData Data { get; } = new();

    internal string? EventSourceUrl { get; private set; }

    internal IReadOnlyList<string>? PixelIds { get; private set; }

    internal bool IsCancelled { get; private set; }

    /// <summary>Whether a trigger has committed it already: each declared event is reported at most once.</summary>
    internal bool IsCommitted { get; set; }

    /// <summary>Whether this conversion takes the event ID the snippet sends (<see cref="AcceptBrowserEventId"/>).</summary>
    internal bool AcceptsBrowserEventId { get; private set; }

    /// <summary>The request's <c>X-Meta-Event-Id</c>, which this conversion does not accept: worth a word in the log.</summary>
    internal string? IgnoredBrowserEventId => AcceptsBrowserEventId ? null : _browserEventId;

    /// <summary>
    /// Whether the browser has already sent its copy: the request carried the snippet's event ID and this conversion
    /// accepts it. The page then gets no second copy.
    /// </summary>
    internal bool IsBrowserInitiated => AcceptsBrowserEventId && _browserEventId is not null;

    private string? AcceptedBrowserEventId => AcceptsBrowserEventId ? _browserEventId : null;

    /// <summary>
    /// Sets the event ID, the deduplication key: an order number is ideal for a purchase. An ID set here always wins
    /// over one the browser sent.
    /// </summary>
    /// <param name="eventId">A string unique to this occurrence of the event.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder UseEventId(string eventId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventId);
        _eventId = eventId;
        return this;
    }

    /// <summary>
    /// Takes the event ID that the snippet sends with the request (<c>X-Meta-Event-Id</c>, from
    /// <c>metaCapi.track</c>) when no ID is set with <see cref="UseEventId(string)"/>: the page has fired the Pixel's
    /// copy itself, so the server's copy must carry its ID and the page gets no second copy. Off by default, because
    /// the header is the visitor's to choose: accept it only where the browser fires the event first (an add-to-cart
    /// button), never where the server owns the ID (a checkout, whose order number must not be replaced). The same as
    /// <see cref="MetaConversionAttribute.AcceptBrowserEventId"/> and <c>.WithMetaConversion(name, acceptBrowserEventId: true)</c>.
    /// </summary>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder AcceptBrowserEventId()
    {
        AcceptsBrowserEventId = true;
        return this;
    }

    /// <summary>Sets the event's value and its ISO 4217 currency, such as <c>USD</c>.</summary>
    /// <param name="value">The value, such as the order total.</param>
    /// <param name="currency">The three-letter currency code.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithValue(decimal value, string currency)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(currency);
        Data.Value = value;
        Data.Currency = currency;
        return this;
    }

    /// <summary>Sets the margin of the conversion (<c>net_revenue</c>), in the currency given to <see cref="WithValue"/>.</summary>
    /// <param name="netRevenue">The margin, such as the order total less the cost of the goods.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithNetRevenue(decimal netRevenue)
    {
        Data.NetRevenue = netRevenue;
        return this;
    }

    /// <summary>Sets the predicted lifetime value of the customer (<c>predicted_ltv</c>), in the currency given to <see cref="WithValue"/>.</summary>
    /// <param name="predictedLtv">The predicted lifetime value.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithPredictedLtv(decimal predictedLtv)
    {
        Data.PredictedLtv = predictedLtv;
        return this;
    }

    /// <summary>Names the earlier event this one follows up (<c>original_event_data</c>).</summary>
    /// <param name="original">The earlier event's name, time, order number or event ID, as known.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithOriginalEvent(OriginalEventData original)
    {
        ArgumentNullException.ThrowIfNull(original);
        OriginalEvent = original;
        return this;
    }

    internal OriginalEventData? OriginalEvent { get; private set; }

    /// <summary>Sets the order number (<c>order_id</c>).</summary>
    /// <param name="orderId">The order number.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithOrderId(string orderId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orderId);
        Data.OrderId = orderId;
        return this;
    }

    /// <summary>Adds products (<c>contents</c>); their IDs become <c>content_ids</c> and their quantities <c>num_items</c>.</summary>
    /// <param name="contents">The products.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithContents(IEnumerable<Content> contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        foreach (var content in contents)
        {
            Data.Contents.Add(content);
        }

        return this;
    }

    /// <summary>Adds one product (<c>contents</c>).</summary>
    /// <param name="id">The product ID, as in the catalogue.</param>
    /// <param name="quantity">How many.</param>
    /// <param name="itemPrice">The price of one item, if known.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithContent(string id, int quantity = 1, decimal? itemPrice = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        Data.Contents.Add(new Content(id, quantity, itemPrice));
        return this;
    }

    /// <summary>Sets the name of the page or product (<c>content_name</c>).</summary>
    /// <param name="contentName">The name.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithContentName(string contentName)
    {
        Data.ContentName = contentName;
        return this;
    }

    /// <summary>Adds a custom key to the event's data, sent to Meta and handed to the Pixel alike.</summary>
    /// <param name="name">The key.</param>
    /// <param name="value">A string, boolean, number, or sequence of strings.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithCustomProperty(string name, object? value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Data.Properties[name] = value;
        return this;
    }

    /// <summary>Describes who did it. Values are raw; the library normalizes and hashes them.</summary>
    /// <param name="configure">Sets the fields of <see cref="User"/>.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithUser(Action<UserData> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(User);
        return this;
    }

    /// <summary>Overrides the page URL the event is reported from (<c>event_source_url</c>).</summary>
    /// <param name="url">An absolute URL.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithEventSourceUrl(string url)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        EventSourceUrl = url;
        return this;
    }

    /// <summary>
    /// Sends this event to these pixels only, instead of every pixel of the request's host; the Pixel's copy then uses
    /// <c>trackSingle</c> for each of them. Each must be configured in <c>MetaConversions:PixelId</c> or
    /// <c>MetaConversions:Pixels</c>.
    /// </summary>
    /// <param name="pixelIds">One or more pixel IDs.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder SendToPixels(params string[] pixelIds)
    {
        ArgumentNullException.ThrowIfNull(pixelIds);
        if (pixelIds.Length == 0)
        {
            throw new ArgumentException("Name at least one pixel ID.", nameof(pixelIds));
        }

        foreach (var id in pixelIds)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(id, nameof(pixelIds));
        }

        PixelIds = [.. pixelIds];
        return this;
    }

    /// <summary>
    /// Sets this event's data processing options, for the server's copy and the Pixel's alike: for example
    /// <c>DataProcessingOptions.LimitedDataUse(1, 1000)</c> for a Californian customer, or
    /// <see cref="DataProcessingOptions.None"/>. Without it, <c>MetaConversions:LimitedDataUse</c> decides.
    /// </summary>
    /// <param name="options">The options.</param>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder WithDataProcessingOptions(DataProcessingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        DataProcessingOptions = options;
        return this;
    }

    internal DataProcessingOptions? DataProcessingOptions { get; private set; }

    /// <summary>The custom data a shared page declared, in wire form, for an event its snippet reports; replaces <see cref="Data"/>.</summary>
    internal GraphCustomData? DeclaredCustomData { get; init; }

    /// <summary>
    /// Hands only the Pixel's copy to the page: the server's copy is sent elsewhere with the same event ID, such as by a
    /// payment webhook that joins the visitor's captured identity (<see cref="ConversionEvent.WithIdentityOf(string)"/>).
    /// Set the same event ID there and here (<see cref="UseEventId(string)"/>, the order ID), so Meta deduplicates them.
    /// </summary>
    /// <returns>This builder.</returns>
    public ConversionEventBuilder PixelOnly()
    {
        IsPixelOnly = true;
        return this;
    }

    /// <summary>Whether only the Pixel's copy is handed over (<see cref="PixelOnly"/>).</summary>
    internal bool IsPixelOnly { get; private set; }

    /// <summary>Decides not to report this event after all: neither the server nor the Pixel sends it.</summary>
    public void Cancel() => IsCancelled = true;

    /// <summary>The event as it stands, with the request's identifiers filled in where the action left them empty.</summary>
    internal ConversionEvent ToConversionEvent(IMetaRequestContext request)
    {
        User.ClickId ??= request.ClickId;
        User.BrowserId ??= request.BrowserId;
        User.ClientIpAddress ??= request.ClientIpAddress;
        User.ClientUserAgent ??= request.UserAgent;
        return new ConversionEvent(EventName)
        {
            EventId = EventId,
            EventIdSource = EventIdSource,
            DeclaredCustomData = DeclaredCustomData,
            ActionSource = ActionSource.Website,
            EventSourceUrl = EventSourceUrl ?? request.PageUrl,
            ReferrerUrl = request.Referrer,
            UserData = User,
            CustomData = Data,
            OriginalEventData = OriginalEvent,
            PixelIds = PixelIds,
            DataProcessingOptions = DataProcessingOptions,
        };
    }
}
