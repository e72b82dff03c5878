using System.Diagnostics.Metrics;
using CapiMiddleware.Dispatch;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// The library's one <see cref="Meter"/> (<see cref="MetaConversionsDiagnostics.MeterName"/>), created once through
/// <see cref="IMeterFactory"/>, and every instrument on it. Counts are of events, not of batches. Tags are built only
/// when an instrument is listened to.
/// </summary>
/// <remarks>
/// The path of an event, and where it is counted: <c>capimiddleware.events.accepted</c> when it is stored in the outbox,
/// or <c>capimiddleware.events.dropped</c> when it never is (or grows too old there); then, per send to Meta,
/// <c>capimiddleware.events.sent</c> or <c>capimiddleware.events.failed</c>, and <c>capimiddleware.events.retried</c>
/// each time it is sent again after a temporary failure. Without an access token nothing is sent, so only accepted,
/// dropped and the queue depth move.
/// </remarks>
internal sealed class ConversionMetrics : IConversionObserver
{
    // Failure and drop reasons, the values of the "reason" tag.
    public const string Transient = "transient";
    public const string TokenRejected = "token_rejected";
    public const string PermissionDenied = "permission_denied";
    public const string Invalid = "invalid";
    public const string Rejected = "rejected";
    public const string QueueFull = "queue_full";
    public const string StoreFailed = "store_failed";
    public const string Stale = "stale";

    private static readonly int[] BatchSizeBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

    // http.client.request.duration's buckets, stretched to cover retries within one send.
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120];

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _personalDataRemoved;
    private readonly Counter<long> _identitiesCaptured;
    private readonly Counter<long> _identitiesJoined;
    private readonly Counter<long> _outboxFallback;
    private readonly Counter<long> _outboxLateWrites;
    private readonly Counter<long> _outboxDrained;
    private readonly Counter<long> _identitiesEvicted;
    private readonly Counter<long> _followUpsEvicted;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _sendDuration;

    public ConversionMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MetaConversionsDiagnostics.MeterName, typeof(ConversionMetrics).Assembly.GetName().Version?.ToString());
        Identifiers = Meter.CreateCounter<long>(
            "capimiddleware.events.identifiers", "{identifier}", "Identifiers carried by queued events, by identifier (em, ph, fbc, ...).");
        MatchQualityBands = Meter.CreateCounter<long>(
            "capimiddleware.events.match_quality", "{event}", "Queued events by estimated match quality band.");
        _accepted = Meter.CreateCounter<long>(
            "capimiddleware.events.accepted", "{event}", "Events stored in the outbox to be sent, by event name.");
        _sent = Meter.CreateCounter<long>(
            "capimiddleware.events.sent", "{event}", "Events Meta acknowledged (HTTP 200), by event name.");
        _failed = Meter.CreateCounter<long>(
            "capimiddleware.events.failed", "{event}",
            "Events of sends Meta did not accept, by reason: transient, token_rejected, permission_denied (all kept and sent again), invalid, rejected (dead-lettered).");
        _dropped = Meter.CreateCounter<long>(
            "capimiddleware.events.dropped", "{event}",
            "Events that will never be sent, by reason: invalid (refused before queueing), queue_full, store_failed, stale (too old for Meta).");
        _retried = Meter.CreateCounter<long>(
            "capimiddleware.events.retried", "{event}",
            "Events sent again after a temporary failure: a retry within one send, or a batch put back to go round again.");
        _identitiesCaptured = Meter.CreateCounter<long>(
            "capimiddleware.identities.captured", "{identity}", "Visitor identities captured for a payment confirmation, by consent (without it, only that fact is kept).");
        _identitiesJoined = Meter.CreateCounter<long>(
            "capimiddleware.identities.joined", "{event}", "Events that asked for a captured identity, by outcome: joined, missing (unknown or expired key: sent with what it has), no_consent (not sent).");
        _personalDataRemoved = Meter.CreateCounter<long>(
            "capimiddleware.urls.personal_data_removed", "{parameter}",
            "Query parameters removed from event_source_url and referrer_url before queueing because they looked like personal data, by url.");
        _outboxFallback = Meter.CreateCounter<long>(
            "capimiddleware.outbox.fallback", "{event}",
            "Events the durable outbox store did not take, kept in the local fallback instead, by reason: failed (the store refused it), late_failed (its write outlived the enqueue budget, then failed), store_skipped (the store was being skipped after failures).");
        _outboxLateWrites = Meter.CreateCounter<long>(
            "capimiddleware.outbox.late_writes", "{event}",
            "Writes to the durable outbox store that outlived the enqueue budget: the request went on, the event stays the write's (the fallback takes it only if the write fails).");
        _outboxDrained = Meter.CreateCounter<long>(
            "capimiddleware.outbox.drained", "{event}", "Events moved from the local fallback back to the durable outbox store.");
        _identitiesEvicted = Meter.CreateCounter<long>(
            "capimiddleware.identities.evicted", "{identity}",
            "Identities the memory store dropped, unexpired and untaken, to stay within MetaConversions:Identities:Capacity.");
        _followUpsEvicted = Meter.CreateCounter<long>(
            "capimiddleware.followups.evicted", "{event}",
            "Events the memory store forgot to make room (MetaConversions:FollowUps:Capacity): a later value for them is refused as unknown.");
        _batchSize = Meter.CreateHistogram(
            "capimiddleware.batch.size", "{event}", "Events per send to Meta.", tags: null,
            new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchSizeBuckets });
        _sendDuration = Meter.CreateHistogram(
            "capimiddleware.send.duration", "s", "How long one send of a batch to Meta took, its retries included, by outcome.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    public Meter Meter { get; }

    /// <summary><c>capimiddleware.events.identifiers</c>, recorded by <see cref="MatchDiagnostics"/>.</summary>
    public Counter<long> Identifiers { get; }

    /// <summary><c>capimiddleware.events.match_quality</c>, recorded by <see cref="MatchDiagnostics"/>.</summary>
    public Counter<long> MatchQualityBands { get; }

    /// <summary>
    /// Creates <c>capimiddleware.queue.depth</c>: the events the outbox holds. A gauge, not an up-down counter, because a
    /// shared store (Redis, one SQLite file) reports the same events from every node: they must not be summed.
    /// </summary>
    public void ObserveQueueDepth(Func<IEnumerable<Measurement<long>>> observe) =>
        Meter.CreateObservableGauge(
            "capimiddleware.queue.depth", observe, "{event}", "Events the outbox holds: waiting, being sent, or waiting to be retried.");


    /// <summary><c>capimiddleware.identities.evicted</c>: identities dropped to make room.</summary>
    public void IdentitiesEvicted(int count)
    {
        if (count > 0)
        {
            _identitiesEvicted.Add(count);
        }
    }

    /// <summary><c>capimiddleware.followups.evicted</c>: remembered events forgotten to make room.</summary>
    public void FollowUpsEvicted(int count)
    {
        if (count > 0)
        {
            _followUpsEvicted.Add(count);
        }
    }

    void IConversionObserver.Stored(Events.GraphEvent graphEvent) => Accepted(graphEvent.EventName);

    void IConversionObserver.Refused(in RefusedEvent refused) => Dropped(refused.Reason switch
    {
        Refusal.QueueFull => QueueFull,
        Refusal.StoreFailed => StoreFailed,
        _ => Invalid,
    });

    void IConversionObserver.PersonalDataRemoved(string eventName, string eventId, int fromSourceUrl, int fromReferrerUrl)
    {
        PersonalDataRemoved("event_source_url", fromSourceUrl);
        PersonalDataRemoved("referrer_url", fromReferrerUrl);
    }

    public void Accepted(string eventName)
    {
        if (_accepted.Enabled)
        {
            _accepted.Add(1, new KeyValuePair<string, object?>("event_name", eventName));
        }
    }

    /// <summary>An identity captured for a payment confirmation (<c>capimiddleware.identities.captured</c>), by whether the visitor consented.</summary>
    public void IdentityCaptured(bool consent)
    {
        if (_identitiesCaptured.Enabled)
        {
            _identitiesCaptured.Add(1, new KeyValuePair<string, object?>("consent", consent));
        }
    }

    /// <summary>An event joined to a captured identity (<c>capimiddleware.identities.joined</c>): joined, missing, or no_consent.</summary>
    public void IdentityJoined(string outcome)
    {
        if (_identitiesJoined.Enabled)
        {
            _identitiesJoined.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>Query parameters that looked like personal data, removed from <paramref name="url"/> (<c>event_source_url</c> or <c>referrer_url</c>).</summary>
    public void PersonalDataRemoved(string url, int count)
    {
        if (count > 0 && _personalDataRemoved.Enabled)
        {
            _personalDataRemoved.Add(count, new KeyValuePair<string, object?>("url", url));
        }
    }

    public void Dropped(string reason, int count = 1)
    {
        if (_dropped.Enabled)
        {
            _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void Retried(int count)
    {
        if (_retried.Enabled)
        {
            _retried.Add(count);
        }
    }

    public void OutboxFallback(string reason)
    {
        if (_outboxFallback.Enabled)
        {
            _outboxFallback.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void OutboxLateWrite() => _outboxLateWrites.Add(1);

    public void OutboxDrained(int count) => _outboxDrained.Add(count);

    public void Sent(IReadOnlyList<OutboxEntry> batch)
    {
        if (!_sent.Enabled)
        {
            return;
        }

        // A batch is usually runs of a few event names: one Add per run, not per event.
        var run = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            run++;
            if (i == batch.Count - 1 || !string.Equals(batch[i].EventName, batch[i + 1].EventName, StringComparison.Ordinal))
            {
                _sent.Add(run, new KeyValuePair<string, object?>("event_name", batch[i].EventName));
                run = 0;
            }
        }
    }

    public void Failed(string reason, int count)
    {
        if (_failed.Enabled)
        {
            _failed.Add(count, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void SendMeasured(int batchSize, TimeSpan duration, SendOutcome outcome)
    {
        _batchSize.Record(batchSize);
        if (_sendDuration.Enabled)
        {
            _sendDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", OutcomeName(outcome)));
        }
    }

    /// <summary>The value of the <c>outcome</c> tag (and of the send Activity's): <c>accepted</c>, <c>transient</c>, ...</summary>
    public static string OutcomeName(SendOutcome outcome) => outcome switch
    {
        SendOutcome.Accepted => "accepted",
        SendOutcome.Transient => Transient,
        SendOutcome.InvalidEvents => "invalid_events",
        SendOutcome.TokenRejected => TokenRejected,
        SendOutcome.PermissionDenied => PermissionDenied,
        SendOutcome.Rejected => Rejected,
        SendOutcome.Cancelled => "cancelled",
        _ => outcome.ToString().ToLowerInvariant(),
    };
}
