namespace CapiMiddleware;

/// <summary>
/// Queues conversions for sending to Meta in the background: events from web requests arrive here through
/// <see cref="MetaConversionAttribute"/>; inject it to report events that have no web request (phone orders, store
/// sales, CRM imports, subscription renewals), with any <see cref="ActionSource"/>. They go through the same
/// normalization, hashing, batching and outbox. Enqueuing never waits on Meta.
/// </summary>
/// <remarks>
/// Meta's rules are checked here, so one bad event never sinks a batch: every event needs at least one customer
/// field left after normalization (an email, a phone, an external ID, a lead ID, an app or messaging ID...);
/// <see cref="ActionSource.Website"/> events also need a user agent and an event source URL;
/// <see cref="ActionSource.App"/> events need <see cref="ConversionEvent.AppData"/> with the tracking consent and the
/// device's extinfo version and OS version; <see cref="ActionSource.BusinessMessaging"/> events need
/// <see cref="ConversionEvent.MessagingChannel"/> and the channel's two IDs in <see cref="UserData"/>; events may be
/// 7 days old, <see cref="ActionSource.PhysicalStore"/> events 62 days.
/// </remarks>
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
