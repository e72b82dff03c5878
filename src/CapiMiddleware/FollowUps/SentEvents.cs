using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.FollowUps;

/// <summary>
/// The index of events a later value may follow up (<c>MetaConversions:FollowUps</c>): each remembered event under
/// <c>event:{event_id}</c> and, when it has one, <c>order:{order_id}</c>, in the outbox's store, for the window plus a
/// day (so that a follow-up a little late is refused as too old rather than as unknown).
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
    /// The remembered event under an order ID (first) or an event ID, with its wire form; or why there is none to
    /// follow up: <see cref="FollowUpOutcome.OriginalUnknown"/>, <see cref="FollowUpOutcome.OriginalTooOld"/>.
    /// </summary>
    public async ValueTask<(SentEvent? Sent, GraphEvent? Event, FollowUpOutcome Refusal)> FindAsync(string orderIdOrEventId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var sent = await _records.FindAsync(OrderKey(orderIdOrEventId), now, cancellationToken).ConfigureAwait(false)
            ?? await _records.FindAsync(EventKey(orderIdOrEventId), now, cancellationToken).ConfigureAwait(false);
        var queued = sent is null ? null : Decode(sent.Payload);
        if (sent is null || queued is null)
        {
            return (null, null, FollowUpOutcome.OriginalUnknown);
        }

        if (now - DateTimeOffset.FromUnixTimeSeconds(queued.EventTime) > _options.CurrentValue.FollowUps.Window)
        {
            return (sent, queued, FollowUpOutcome.OriginalTooOld);
        }

        return (sent, queued, FollowUpOutcome.Queued);
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
