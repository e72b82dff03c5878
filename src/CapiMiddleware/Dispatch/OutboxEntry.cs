namespace CapiMiddleware.Dispatch;

/// <summary>
/// One event waiting to reach Meta: already normalized, hashed and serialized (<see cref="Payload"/> is the event's
/// JSON object, UTF-8), so a store never holds raw personal data and a batch is assembled without re-serializing.
/// </summary>
internal sealed class OutboxEntry
{
    public required string PixelId { get; init; }

    public required string EventName { get; init; }

    public required string EventId { get; init; }

    /// <summary>The event's time, Unix seconds, so stale entries can be dropped before they sink a batch.</summary>
    public required long EventTime { get; init; }

    public required string ActionSource { get; init; }

    public required byte[] Payload { get; init; }

    public required DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>How many times a send of this entry failed temporarily.</summary>
    public int FailedAttempts { get; set; }
}
