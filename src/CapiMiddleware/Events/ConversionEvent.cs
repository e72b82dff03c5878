using CapiMiddleware.Events;

namespace CapiMiddleware;

/// <summary>
/// One conversion to report to Meta: a name, an ID shared with the browser's copy (for deduplication), when and where
/// it happened, who did it (<see cref="UserData"/>) and what it was worth (<see cref="CustomData"/>).
/// Knows nothing of HTTP: web requests fill the request's identifiers in, offline sources set them themselves.
/// </summary>
/// <param name="EventName">A standard name from <see cref="MetaEventNames"/> or a custom one. Case-sensitive.</param>
/// <exception cref="ArgumentException">The name is empty, longer than 100 characters, or has control or formatting characters, which Meta refuses.</exception>
public sealed record ConversionEvent(string EventName)
{
    private readonly string _eventName = MetaEventNames.Require(EventName);

    /// <summary>A standard name from <see cref="MetaEventNames"/> or a custom one. Case-sensitive.</summary>
    /// <exception cref="ArgumentException">The name is empty, longer than 100 characters, or has control or formatting characters.</exception>
    public string EventName
    {
        get => _eventName;
        init => _eventName = MetaEventNames.Require(value);
    }

    /// <summary>
    /// Joins the visitor identity captured under <paramref name="key"/> (the order ID, the payment session ID) with
    /// <c>HttpContext.CaptureMetaIdentityAsync(key)</c> when they started paying: a payment webhook, a worker or an admin
    /// action then reports the Purchase with the visitor's click ID, browser ID, IP address, user agent, checkout URL and
    /// hashed user fields, as a <see cref="ActionSource.Website"/> event whose <see cref="EventId"/> is the key unless
    /// set, so the Pixel's copy on the thank-you page (same ID) deduplicates with it. The identity is used once. An
    /// unknown or expired key: the event is sent with what it has (as <see cref="ActionSource.SystemGenerated"/> when it
    /// lacks a user agent or page URL), with a warning and a count. A visitor who had not consented: nothing is sent.
    /// The identifiers are filled into this event's <see cref="UserData"/> where it leaves them empty.
    /// </summary>
    /// <param name="key">The key the identity was captured under.</param>
    /// <returns>A copy of this event that joins the identity when it is queued.</returns>
    public ConversionEvent WithIdentityOf(string key)
    {
        Identity.IdentityKeys.Require(key);
        return this with { IdentityKey = key };
    }

    /// <summary>The key of the captured identity to join (<see cref="WithIdentityOf"/>), or null.</summary>
    internal string? IdentityKey { get; init; }

    /// <summary>The custom data as a shared page declared it, already in wire form; when set, <see cref="CustomData"/> is not read.</summary>
    internal GraphCustomData? DeclaredCustomData { get; init; }

    /// <summary>Which side chose <see cref="EventId"/>, for the inspector.</summary>
    internal EventIdSource EventIdSource { get; init; } = EventIdSource.Server;

    /// <summary>User fields already normalized and hashed (a follow-up's, as its original was sent); <see cref="UserData"/> is then not read.</summary>
    internal GraphUserData? PreparedUserData { get; init; }

    /// <summary>
    /// The deduplication key (<c>event_id</c>): the same string the Pixel is given as <c>eventID</c>. An order number is
    /// ideal for a purchase. When <see langword="null"/>, a random ID is generated.
    /// </summary>
    public string? EventId { get; init; }

    /// <summary>When it happened. When <see langword="null"/>, the time it was queued. Meta accepts events up to 7 days old (62 for <see cref="ActionSource.PhysicalStore"/>).</summary>
    public DateTimeOffset? EventTime { get; init; }

    /// <summary>Where it happened. The default value is <see cref="ActionSource.Website"/>.</summary>
    public ActionSource ActionSource { get; init; } = ActionSource.Website;

    /// <summary>The URL of the page where it happened (<c>event_source_url</c>); required for website events.</summary>
    public string? EventSourceUrl { get; init; }

    /// <summary>The page's referrer (<c>referrer_url</c>).</summary>
    public string? ReferrerUrl { get; init; }

    /// <summary>
    /// The earlier event this one follows up (<c>original_event_data</c>), such as the purchase a later margin or
    /// predicted lifetime value belongs to. The default value is <see langword="null"/>.
    /// </summary>
    public OriginalEventData? OriginalEventData { get; init; }

    /// <summary>
    /// How this conversion was attributed to an ad (<c>attribution_data</c>), for an attribution passback. The default
    /// value is <see langword="null"/>.
    /// </summary>
    public AttributionData? AttributionData { get; init; }

    /// <summary>
    /// The conversation's channel (<c>messaging_channel</c>); required for <see cref="ActionSource.BusinessMessaging"/>
    /// events, with the channel's IDs in <see cref="UserData"/>. The default value is <see langword="null"/>.
    /// </summary>
    public MessagingChannel? MessagingChannel { get; init; }

    /// <summary>
    /// The app and device (<c>app_data</c>); required for <see cref="ActionSource.App"/> events. The default value is
    /// <see langword="null"/>.
    /// </summary>
    public AppData? AppData { get; init; }

    /// <summary>
    /// The table of Meta's Advanced Measurement API the event is for (<c>advanced_measurement_table</c>); only for that
    /// API. The default value is <see langword="null"/>.
    /// </summary>
    public string? AdvancedMeasurementTable { get; init; }

    /// <summary>Who did it: raw values, hashed on the way to Meta.</summary>
    public UserData UserData { get; init; } = new();

    /// <summary>What it was worth and what it was about.</summary>
    public CustomData CustomData { get; init; } = new();

    /// <summary>
    /// The pixels (datasets) this event goes to, each of them configured in <see cref="MetaConversionsOptions.PixelId"/>
    /// or <see cref="MetaConversionsOptions.Pixels"/>. The default value is <see langword="null"/>: the pixels of the
    /// request's host, or, for an event with no request, <see cref="MetaConversionsOptions.PixelId"/> and the pixels
    /// that name no host.
    /// </summary>
    public IReadOnlyList<string>? PixelIds { get; init; }

    /// <summary>Whether Meta should use the event for attribution only and not for ads delivery optimization (<c>opt_out</c>).</summary>
    public bool OptOut { get; init; }

    /// <summary>
    /// Limited Data Use for this event (<c>data_processing_options</c> with country and state), or
    /// <see cref="CapiMiddleware.DataProcessingOptions.None"/> to send it without. When <see langword="null"/>,
    /// <c>MetaConversions:LimitedDataUse</c> decides. The default value is <see langword="null"/>.
    /// </summary>
    public DataProcessingOptions? DataProcessingOptions { get; init; }
}
