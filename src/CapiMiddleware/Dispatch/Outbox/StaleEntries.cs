using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// The staleness rule every store applies when it leases: an entry whose event is older than Meta accepts
/// (<see cref="EventAge"/>) less <see cref="SafetyMargin"/> is dead-lettered with <see cref="Reason"/>, logged and
/// counted, instead of being sent to make Meta refuse its whole batch.
/// </summary>
internal sealed class StaleEntries
{
    /// <summary>Room for the retries and the trip to Meta between leasing an entry and Meta receiving it.</summary>
    public static readonly TimeSpan SafetyMargin = TimeSpan.FromHours(1);

    public static readonly string Reason =
        $"not sent: older than Meta accepts ({EventAge.MaxAge.TotalDays:0} days, {EventAge.MaxAgePhysicalStore.TotalDays:0} for physical_store) " +
        $"less a safety margin of {SafetyMargin.TotalHours:0} hour";

    private readonly TimeProvider _time;
    private readonly ConversionMetrics _metrics;
    private readonly ILogger<StaleEntries> _logger;
    private long _dropped;

    public StaleEntries(TimeProvider time, ConversionMetrics metrics, ILogger<StaleEntries> logger)
    {
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>How many entries were dropped as too old since the process started.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    public static bool IsStale(OutboxEntry entry, DateTimeOffset now) =>
        now.ToUnixTimeSeconds() - entry.EventTime > (long)(EventAge.MaxAgeOf(entry.ActionSource) - SafetyMargin).TotalSeconds;

    /// <summary>
    /// Moves the stale entries out of <paramref name="leased"/> and returns them, logged and counted; <see langword="null"/>
    /// when there are none. The caller dead-letters them with <see cref="Reason"/>.
    /// </summary>
    public List<OutboxEntry>? TakeStale(List<OutboxEntry> leased)
    {
        var now = _time.GetUtcNow();
        List<OutboxEntry>? stale = null;
        for (var i = leased.Count - 1; i >= 0; i--)
        {
            if (IsStale(leased[i], now))
            {
                (stale ??= []).Add(leased[i]);
                leased.RemoveAt(i);
            }
        }

        if (stale is not null)
        {
            var dropped = Interlocked.Add(ref _dropped, stale.Count);
            _metrics.Dropped(ConversionMetrics.Stale, stale.Count);
            Log.StaleEventsDropped(_logger, stale.Count, stale[^1].EventName, stale[^1].EventId, Reason, dropped);
        }

        return stale;
    }

    /// <summary>
    /// Takes the stale entries out of <paramref name="leased"/> and dead-letters them through the store's own
    /// <paramref name="deadLetter"/>. A failure there is logged, never thrown: the rest of the batch is leased and must
    /// reach the sender, and the stale entries come back when their lease runs out, to be dropped then.
    /// </summary>
    public async Task DropAsync(
        List<OutboxEntry> leased,
        Func<IReadOnlyList<OutboxEntry>, string, CancellationToken, ValueTask> deadLetter)
    {
        if (TakeStale(leased) is not { } stale)
        {
            return;
        }

        try
        {
            await deadLetter(stale, Reason, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) // the dead-lettering was given no token: any exception is its failure
        {
            Log.StaleDropFailed(_logger, ex, stale.Count);
        }
    }
}
