namespace CapiMiddleware;

/// <summary>What became of a follow-up value handed to <see cref="IConversionQueue.AppendToAsync"/>.</summary>
public enum FollowUpOutcome
{
    /// <summary>Queued, with <c>original_event_data</c> naming the earlier event; it is sent like any other event.</summary>
    Queued,

    /// <summary>
    /// No event was remembered under that order ID or event ID: it was never queued, its name is not in
    /// <c>MetaConversions:FollowUps:Events</c>, the memory store forgot it to make room, or the library was restarted
    /// with the <c>memory</c> outbox. Nothing is sent; the log says which key.
    /// </summary>
    OriginalUnknown,

    /// <summary>The earlier event is older than <c>MetaConversions:FollowUps:Window</c>. Nothing is sent.</summary>
    OriginalTooOld,

    /// <summary>
    /// The follow-up was not queued: the library is disabled, the event would be one Meta rejects (such as a
    /// <c>net_revenue</c> without a currency), the queue is full, or a store could not answer. The log says why.
    /// </summary>
    NotQueued,
}
