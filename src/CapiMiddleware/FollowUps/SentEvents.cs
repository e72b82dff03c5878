using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;
using CapiMiddleware.Hosting;
using CapiMiddleware.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.FollowUps;

/// <summary>
/// The events a later value may follow up (<c>MetaConversions:FollowUps</c>), and the follow-ups themselves: each
/// remembered event is kept under <c>event:{event_id}</c>, and under <c>order:{order_id}</c> a small record pointing at
/// it, in the outbox's store, for the window plus a day (so that a follow-up a little late is refused as too old rather
/// than as unknown).
/// </summary>
/// <remarks>
/// Remembering is off the request: the request that queued the event does not wait for these writes (with Redis, two
/// round trips), only for the outbox's own. A follow-up asked for while its original's writes are under way waits for
/// them. At most <see cref="MaxInFlight"/> writes are under way at once; past that (a store that hangs), events are not
/// remembered, and the log says so.
/// </remarks>
internal sealed class SentEvents : IAsyncDisposable
{
    // Kept past the window so a late follow-up is told "too old", not "unknown".
    private static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    private const int MaxInFlight = 10_000;

    private readonly IKeptRecords<SentEvent> _records;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SentEvents> _logger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _inFlight = new(StringComparer.Ordinal);
    private readonly LogThrottle _notKept = new(LogThrottle.PerMinute);

    public SentEvents(IKeptRecords<SentEvent> records, IOptionsMonitor<MetaConversionsOptions> options, TimeProvider time, ILogger<SentEvents> logger)
    {
        _records = records;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Starts remembering a queued event when its name is listed, and returns at once; never throws into the request.</summary>
    public void Remember(GraphEvent queued, byte[] payload, IReadOnlyList<string> pixelIds)
    {
        var options = _options.CurrentValue;
        if (!options.FollowUps.Remembers(queued.EventName) || queued.OriginalEventData is not null)
        {
            // A follow-up is not itself followed up: its original is the one to name.
            return;
        }

        var eventKey = EventKey(queued.EventId);
        var orderKey = queued.CustomData?.OrderId is { Length: > 0 } orderId ? OrderKey(orderId) : null;
        if (_inFlight.Count >= MaxInFlight)
        {
            NotKept(new TimeoutException($"{MaxInFlight} writes of remembered events are still under way: the store is not answering."), queued);
            return;
        }

        var now = _time.GetUtcNow();
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(queued.EventTime) + options.FollowUps.Window + Grace;
        var save = SaveAsync(queued, eventKey, orderKey, new SentEvent([.. pixelIds], payload, now), expiresAt);
        _inFlight[eventKey] = save;
        if (orderKey is not null)
        {
            _inFlight[orderKey] = save;
        }

        _ = save.ContinueWith(
            (_, state) =>
            {
                var (self, keys) = ((SentEvents, string?[]))state!;
                foreach (var key in keys)
                {
                    if (key is not null)
                    {
                        self._inFlight.TryRemove(new KeyValuePair<string, Task>(key, save));
                    }
                }
            },
            (this, new[] { eventKey, orderKey }),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
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
            sent = await FindAsync(OrderKey(orderIdOrEventId), now, cancellationToken).ConfigureAwait(false)
                ?? await FindAsync(EventKey(orderIdOrEventId), now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ex.IsCancellationBy(cancellationToken))
        {
            Log.FollowUpIndexUnavailable(_logger, ex);
            return FollowUpOutcome.NotQueued;
        }

        var window = _options.CurrentValue.FollowUps.Window;
        var original = sent is null ? null : Decode(sent.Payload);
        if (sent is null || original is null)
        {
            Log.FollowUpRefused(_logger, orderIdOrEventId, "no event is remembered under that order ID or event ID: it was not queued, its name is not in MetaConversions:FollowUps:Events (empty by default: list the event, such as Purchase, to remember it), or it was forgotten (memory outbox restarted, or MetaConversions:FollowUps:Capacity reached)");
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

    /// <summary>The event under <paramref name="key"/>, once a write of it under way has ended; an order's pointer followed.</summary>
    private async ValueTask<SentEvent?> FindAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_inFlight.TryGetValue(key, out var saving))
        {
            await saving.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        var found = await _records.FindAsync(key, now, cancellationToken).ConfigureAwait(false);
        return found is { PointsTo: { } eventKey }
            ? await _records.FindAsync(eventKey, now, cancellationToken).ConfigureAwait(false)
            : found;
    }

    /// <summary>The event under its event ID, and a pointer to it under its order ID: both writes at once (one round trip with Redis).</summary>
    private async Task SaveAsync(GraphEvent queued, string eventKey, string? orderKey, SentEvent sent, DateTimeOffset expiresAt)
    {
        try
        {
            var full = _records.SaveAsync(eventKey, sent, expiresAt, CancellationToken.None);
            if (orderKey is not null)
            {
                var pointer = _records.SaveAsync(orderKey, new SentEvent([], [], sent.QueuedAt, eventKey), expiresAt, CancellationToken.None);
                await pointer.ConfigureAwait(false);
            }

            await full.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            NotKept(ex, queued);
        }
    }

    /// <summary>A store that is down fails every write: said at most once a minute, with the count.</summary>
    private void NotKept(Exception exception, GraphEvent queued)
    {
        if (_notKept.ShouldLog(_time, out var occurrences))
        {
            Log.FollowUpOriginalNotKept(_logger, exception, queued.EventName, queued.EventId, occurrences);
        }
    }

    /// <summary>Waits, at shutdown, for the writes under way, so an event queued just before it is still remembered.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Task.WhenAll(_inFlight.Values).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // a store that does not answer: the events stay queued, only their follow-ups will be refused
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
