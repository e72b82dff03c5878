namespace CapiMiddleware;

/// <summary>
/// The business data of a conversion (<c>custom_data</c>): value, currency, order and products. The same data is
/// handed to the Pixel in the browser, so both copies of an event describe the same thing.
/// </summary>
public sealed class CustomData
{
    /// <summary>The monetary value of the event (<c>value</c>), such as an order total. Requires <see cref="Currency"/>.</summary>
    public decimal? Value { get; set; }

    /// <summary>ISO 4217 currency code (<c>currency</c>), such as <c>USD</c>.</summary>
    public string? Currency { get; set; }

    /// <summary>The order number (<c>order_id</c>).</summary>
    public string? OrderId { get; set; }

    /// <summary>Product IDs (<c>content_ids</c>). When empty and <see cref="Contents"/> has items, their IDs are sent.</summary>
    public IList<string> ContentIds { get; } = new List<string>();

    /// <summary>Products with quantities and prices (<c>contents</c>).</summary>
    public IList<Content> Contents { get; } = new List<Content>();

    /// <summary><c>product</c> or <c>product_group</c> (<c>content_type</c>). Defaults to <c>product</c> when products are given.</summary>
    public string? ContentType { get; set; }

    /// <summary>The name of the page or product (<c>content_name</c>).</summary>
    public string? ContentName { get; set; }

    /// <summary>The category of the page or product (<c>content_category</c>).</summary>
    public string? ContentCategory { get; set; }

    /// <summary>The number of items (<c>num_items</c>). Defaults to the sum of the quantities in <see cref="Contents"/>.</summary>
    public int? NumItems { get; set; }

    /// <summary>A search query (<c>search_string</c>), for <c>Search</c> events.</summary>
    public string? SearchString { get; set; }

    /// <summary>A status (<c>status</c>), for example of a registration.</summary>
    public string? Status { get; set; }

    /// <summary>How the purchase reaches the customer (<c>delivery_category</c>).</summary>
    public DeliveryCategory? DeliveryCategory { get; set; }

    /// <summary>Tells apart events of the same order or transaction (<c>item_number</c>).</summary>
    public string? ItemNumber { get; set; }

    /// <summary>
    /// The margin of the conversion (<c>net_revenue</c>), in <see cref="Currency"/>: what Meta's profit optimization
    /// bids on. Requires <see cref="Currency"/>. Like every field here it is handed to the Pixel too, so it is visible in
    /// the page's source; report it in an event queued from the server (<see cref="IConversionQueue"/>) to keep it there.
    /// </summary>
    public decimal? NetRevenue { get; set; }

    /// <summary>
    /// The predicted lifetime value of the customer this conversion brought (<c>predicted_ltv</c>), in
    /// <see cref="Currency"/>. Requires <see cref="Currency"/>. Meta wants it within 7 days of the conversion it values.
    /// </summary>
    public decimal? PredictedLtv { get; set; }

    /// <summary>
    /// Custom keys sent beside the standard ones. Values may be strings, booleans, numbers, or sequences of strings;
    /// other values are sent as their string form.
    /// </summary>
    public IDictionary<string, object?> Properties { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);

    internal bool IsEmpty =>
        Value is null && Currency is null && OrderId is null && ContentIds.Count == 0 && Contents.Count == 0
        && ContentType is null && ContentName is null && ContentCategory is null && NumItems is null
        && SearchString is null && Status is null && DeliveryCategory is null && ItemNumber is null && NetRevenue is null && PredictedLtv is null && Properties.Count == 0;
}

/// <summary>A product in an event's <see cref="CustomData.Contents"/> (an item of <c>contents</c>).</summary>
/// <param name="Id">The product ID, as in the catalogue (<c>id</c>). Required: an event with a product without one is refused.</param>
/// <param name="Quantity">How many (<c>quantity</c>).</param>
/// <param name="ItemPrice">The price of one item, if known (<c>item_price</c>).</param>
public sealed record Content(string Id, int Quantity = 1, decimal? ItemPrice = null)
{
    /// <summary>The product's title (<c>title</c>). Sent by Meta's SDKs; Meta's documentation lists only id, quantity, item_price and delivery_category.</summary>
    public string? Title { get; init; }

    /// <summary>The product's description (<c>description</c>).</summary>
    public string? Description { get; init; }

    /// <summary>The product's brand (<c>brand</c>).</summary>
    public string? Brand { get; init; }

    /// <summary>The product's category (<c>category</c>).</summary>
    public string? Category { get; init; }

    /// <summary>How this product reaches the customer (<c>delivery_category</c>).</summary>
    public DeliveryCategory? DeliveryCategory { get; init; }
}
