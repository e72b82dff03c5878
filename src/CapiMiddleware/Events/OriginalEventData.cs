namespace CapiMiddleware;

/// <summary>
/// The earlier event a follow-up refers to (<c>original_event_data</c>): a later margin or predicted lifetime value for
/// a purchase already reported, or an attribution for it. Meta matches it by name and time, and by order ID or event
/// ID; set what is known. Nothing is sent when every field is empty.
/// </summary>
public sealed record OriginalEventData
{
    /// <summary>The earlier event's name (<c>event_name</c>), such as <c>Purchase</c>. Case-sensitive.</summary>
    public string? EventName { get; init; }

    /// <summary>When the earlier event happened (<c>event_time</c>, sent as Unix seconds).</summary>
    public DateTimeOffset? EventTime { get; init; }

    /// <summary>The earlier event's order number (<c>order_id</c>).</summary>
    public string? OrderId { get; init; }

    /// <summary>The earlier event's ID (<c>event_id</c>), the deduplication key it was sent with.</summary>
    public string? EventId { get; init; }
}
