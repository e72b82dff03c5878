using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;
using CapiMiddleware.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.FollowUps;

/// <summary>
/// The events a later value may follow up (<c>MetaConversions:FollowUps</c>), and the follow-ups themselves: each
/// remembered event is kept under <c>event:{event_id}</c> and, when it has one, <c>order:{order_id}</c>, in the outbox's
/// store, for the window plus a day (so that a follow-up a little late is refused as too old rather than as unknown).
/// </summary>
internal sealed class SentEvents
{
    // Kept past the window so a late follow-up is told "too old", not "unknown".
    private static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    private readonly IKeptRecords<SentEvent> _records;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SentEvents> _logger;

    public SentEvents(IKeptRecords<SentEvent> records, IOptionsMonitor<MetaConversionsOptions> options, TimeProvider time, ILogger<SentEvents> logger)
    {
        _records = records;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Remembers a queued event when its name is listed; never throws into the request that queued it.</summary>
    public async ValueTask RememberAsync(GraphEvent queued, byte[] payload, IReadOnlyList<string> pixelIds, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        if (!options.FollowUps.Remembers(queued.EventName) || queued.OriginalEventData is not null)
        {
            // A follow-up is not itself followed up: its original is the one to name.
            return;
        }

        var now = _time.GetUtcNow();
        var sent = new SentEvent([.. pixelIds], payload, now);
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(queued.EventTime) + options.FollowUps.Window + Grace;
        try
        {
            // As the identities: the request waits for the store no longer than for the outbox (Outbox:EnqueueBudget).
            await SaveAsync(queued, sent, expiresAt, cancellationToken).AsTask()
                .WaitAsync(options.Outbox.EnqueueBudget, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.FollowUpOriginalNotKept(_logger, ex, queued.EventName, queued.EventId);
        }
    }

    /// <summary>
    /// Queues a follow-up of the event remembered under an order ID (first) or an event ID, through
    /// <paramref name="queue"/> like any event; or says why not, in the outcome and the log.
    /// </summary>
    public async ValueTask<FollowUpOutcome> AppendToAsync(string orderIdOrEventId, Action<CustomData> change, ConversionQueue queue, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        SentEvent? sent;
        try
        {
            sent = await _records.FindAsync(OrderKey(orderIdOrEventId), now, cancellationToken).ConfigureAwait(false)
                ?? await _records.FindAsync(EventKey(orderIdOrEventId), now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.FollowUpIndexUnavailable(_logger, ex);
            return FollowUpOutcome.NotQueued;
        }

        var window = _options.CurrentValue.FollowUps.Window;
        var original = sent is null ? null : Decode(sent.Payload);
        if (sent is null || original is null)
        {
            Log.FollowUpRefused(_logger, orderIdOrEventId, "no event is remembered under that order ID or event ID: it was not queued, its name is not in MetaConversions:FollowUps:Events (default: Purchase), or it was forgotten (memory outbox restarted, or MetaConversions:FollowUps:Capacity reached)");
            return FollowUpOutcome.OriginalUnknown;
        }

        if (now - DateTimeOffset.FromUnixTimeSeconds(original.EventTime) > window)
        {
            Log.FollowUpRefused(_logger, orderIdOrEventId, $"the event it refers to is older than MetaConversions:FollowUps:Window ({window})");
            return FollowUpOutcome.OriginalTooOld;
        }

        if (original.ActionSource == ActionSource.App.WireName())
        {
            Log.FollowUpRefused(_logger, orderIdOrEventId, "it refers to an app event, and follow-ups of app events are not sent (Meta's value optimizations take web events)");
            return FollowUpOutcome.NotQueued;
        }

        var data = FollowUpEvents.Seed(original);
        change(data);
        var followUp = FollowUpEvents.Create(sent, original, data, now);

        // The ID is a digest of what the follow-up says: the same value queued twice is one event for Meta. A follow-up
        // Meta would reject is refused by the queue, which says why.
        var eventId = FollowUpEvents.EventIdOf(original, GraphEventWriter.CreateCustomData(data, out _));
        var result = await queue.EnqueueAsync(followUp, eventId, host: null, cancellationToken).ConfigureAwait(false);
        return result.Status == EnqueueStatus.Queued ? FollowUpOutcome.Queued : FollowUpOutcome.NotQueued;
    }

    private async ValueTask SaveAsync(GraphEvent queued, SentEvent sent, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await _records.SaveAsync(EventKey(queued.EventId), sent, expiresAt, cancellationToken).ConfigureAwait(false);
        if (queued.CustomData?.OrderId is { Length: > 0 } orderId)
        {
            await _records.SaveAsync(OrderKey(orderId), sent, expiresAt, cancellationToken).ConfigureAwait(false);
        }
    }

    private static GraphEvent? Decode(byte[] payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, GraphJsonContext.Default.GraphEvent);
        }
        catch (JsonException)
        {
            return null; // written by a version whose event this one cannot read: unknown
        }
    }

    private static string EventKey(string eventId) => "event:" + eventId;

    private static string OrderKey(string orderId) => "order:" + orderId;
}
