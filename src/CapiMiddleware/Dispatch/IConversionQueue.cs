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

    /// <summary>
    /// Sends a later value for an event queued earlier, such as the margin (<see cref="CustomData.NetRevenue"/>) or the
    /// predicted lifetime value (<see cref="CustomData.PredictedLtv"/>) of a purchase: a new event with the earlier one's
    /// name, pixels, page and user fields (as they were sent, hashed), and <c>original_event_data</c> naming it, which
    /// Meta uses to attach the value to the earlier event.
    /// </summary>
    /// <remarks>
    /// The earlier event must have been queued by this library with a name listed in
    /// <c>MetaConversions:FollowUps:Events</c> (empty by default: <c>["Purchase"]</c> for purchases) no longer than
    /// <c>MetaConversions:FollowUps:Window</c> ago (default: 7 days; Meta wants a predicted lifetime value within 7 days).
    /// It is remembered in the outbox's store: across a restart and across a web farm's nodes with <c>sqlite</c> or
    /// <c>redis</c>, in this process only with <c>memory</c>. The follow-up's event ID is the earlier one's with a digest
    /// of the new values, so calling this twice with the same change sends one event.
    /// </remarks>
    /// <param name="orderIdOrEventId">The earlier event's order ID (<see cref="CustomData.OrderId"/>), or else its event ID.</param>
    /// <param name="change">
    /// Sets the follow-up's values on custom data that starts with the earlier event's currency, value and order ID:
    /// <c>d =&gt; d.NetRevenue = 12.40m</c>.
    /// </param>
    /// <param name="cancellationToken">Cancels waiting for a durable store.</param>
    /// <returns>
    /// <see cref="FollowUpOutcome.Queued"/>, or why nothing was queued: the earlier event is unknown or too old, or the
    /// follow-up was refused (the log says why).
    /// </returns>
    ValueTask<FollowUpOutcome> AppendToAsync(string orderIdOrEventId, Action<CustomData> change, CancellationToken cancellationToken = default);
}
