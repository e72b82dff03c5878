namespace CapiMiddleware;

/// <summary>
/// Queues conversions for sending to Meta in the background: events from web requests arrive here through
/// <see cref="MetaConversionAttribute"/>; inject it to report events that have no web request (phone orders, store
/// sales, CRM imports). Enqueuing never waits on Meta.
/// </summary>
public interface IConversionQueue
{
    /// <summary>
    /// Normalizes and hashes the event's personal fields and queues it.
    /// </summary>
    /// <param name="conversionEvent">The event. When its <see cref="ConversionEvent.EventId"/> is null, a random one is used.</param>
    /// <param name="cancellationToken">Cancels waiting for a durable store.</param>
    /// <returns>
    /// <see langword="true"/> when queued; <see langword="false"/> when it was not: the library is disabled, the event is
    /// one Meta would reject (the log says why), the queue is full, or the outbox store could not take it (the log
    /// says why).
    /// </returns>
    ValueTask<bool> EnqueueAsync(ConversionEvent conversionEvent, CancellationToken cancellationToken = default);
}
