namespace CapiMiddleware;

/// <summary>
/// One event waiting to reach Meta: already normalized, hashed and serialized (<see cref="Payload"/> is the event's
/// JSON object, UTF-8), so a store never holds raw personal data and a batch is assembled without re-serializing.
/// </summary>
/// <remarks>
/// A store keeps every field as it was enqueued and returns an equal entry when it leases it; it never reads
/// <see cref="Payload"/>. The library creates entries; a store creates them only to return what it kept.
/// </remarks>
public sealed class OutboxEntry
{
    /// <summary>The pixel (dataset) the event goes to: entries of several pixels share a store.</summary>
    public required string PixelId { get; init; }

    /// <summary>The event's name, such as <c>Purchase</c>, for logs and dead letters.</summary>
    public required string EventName { get; init; }

    /// <summary>The event's ID, shared with the Pixel's copy, for logs and dead letters.</summary>
    public required string EventId { get; init; }

    /// <summary>The event's time, Unix seconds, so stale entries can be dropped before they sink a batch.</summary>
    public required long EventTime { get; init; }

    /// <summary>The event's action source, such as <c>website</c>: how old Meta accepts it depends on it.</summary>
    public required string ActionSource { get; init; }

    /// <summary>The event as Meta receives it: one JSON object, UTF-8. Kept byte for byte.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>When the entry was first enqueued (a store may keep it to the millisecond).</summary>
    public required DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>How many times a send of this entry failed temporarily; the store keeps it through a retry.</summary>
    public int FailedAttempts { get; set; }
}
