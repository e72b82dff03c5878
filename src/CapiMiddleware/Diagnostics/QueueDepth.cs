using System.Diagnostics.Metrics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// How many events the outbox holds, for the <c>capimiddleware.queue.depth</c> gauge and the health check, without a
/// store query on every collection. The memory store's count is one interlocked read, so it is read every time. A
/// durable store's count costs a query (SQLite's <c>COUNT(*)</c>, two Redis round trips), so it is read off the
/// collecting thread at most once per <see cref="RefreshInterval"/>, and the last count is reported meanwhile.
/// </summary>
internal sealed class QueueDepth
{
    /// <summary>How old a durable store's count may be.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private readonly IOutboxStore _store;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private volatile Reading? _last;
    private Task<Reading>? _refresh;

    public QueueDepth(IOutboxStore store, ConversionMetrics metrics, TimeProvider time)
    {
        _store = store;
        _time = time;
        metrics.ObserveQueueDepth(Observe);
    }

    /// <summary>The count, or why the store could not be counted (an exception's type name: nothing secret).</summary>
    public sealed record Reading(long? Count, string? Failure, long Timestamp);

    /// <summary>The count for the health check: fresh for the memory store, at most <see cref="RefreshInterval"/> old otherwise.</summary>
    public async ValueTask<Reading> ReadAsync(CancellationToken cancellationToken)
    {
        if (_store is MemoryOutboxStore)
        {
            return await CountAsync().ConfigureAwait(false);
        }

        var last = _last;
        return last is { } fresh && _time.GetElapsedTime(fresh.Timestamp) < RefreshInterval
            ? fresh
            : await Refresh().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        if (_store is MemoryOutboxStore)
        {
            var count = _store.CountAsync(CancellationToken.None);
            return count.IsCompletedSuccessfully ? [new Measurement<long>(count.Result)] : [];
        }

        var last = _last;
        if (last is null || _time.GetElapsedTime(last.Timestamp) >= RefreshInterval)
        {
            _ = Refresh();
        }

        // The first collection of a durable store has nothing to report yet; an unreadable store reports nothing.
        return last?.Count is { } depth ? [new Measurement<long>(depth)] : [];
    }

    private Task<Reading> Refresh()
    {
        lock (_gate)
        {
            if (_refresh is not { IsCompleted: false })
            {
                // Off the caller's thread: SQLite's count runs synchronously once its lock is free.
                _refresh = Task.Run(async () => _last = await CountAsync().ConfigureAwait(false));
            }

            return _refresh;
        }
    }

    private async Task<Reading> CountAsync()
    {
        try
        {
            return new Reading(await _store.CountAsync(CancellationToken.None).ConfigureAwait(false), null, _time.GetTimestamp());
        }
        catch (Exception ex)
        {
            return new Reading(null, ex.GetType().Name, _time.GetTimestamp());
        }
    }
}
