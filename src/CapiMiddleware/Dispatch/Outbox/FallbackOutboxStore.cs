using System.Collections.Concurrent;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Hosting;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// Keeps a sick store (Redis unreachable, a full or read-only disk) from stalling requests. An enqueue waits for the
/// store at most the budget (<c>MetaConversions:Outbox:EnqueueBudget</c>); an entry the store refuses goes to a local
/// fallback, and one it has not taken by then goes there only if its write then fails, so each entry lands in one of
/// the two. A background drain moves what the fallback holds back to the store once it takes entries again. After
/// several failed or late writes in a row a <see cref="StoreBreaker"/> sends requests straight to the fallback for a
/// while, then lets one through to probe; a late write that then succeeds ends the break at once (the store is slow,
/// not down). Everything else (leasing, acknowledging...) is the store's: the sender only
/// ever sends from the store. Knows nothing of Redis or SQLite: it wraps any <see cref="IOutboxStore"/>.
/// </summary>
/// <remarks>
/// One case can store an entry twice: a write that fails after it reached the store (a Redis time-out on a reply that
/// was lost). Both copies carry the event's ID, so Meta keeps one. The fallback is memory by default: what it still
/// holds when the process ends is lost, with a logged count. An SQLite fallback (<c>MetaConversions:Outbox:FallbackPath</c>)
/// keeps it for the next start, whose drain moves it to the store.
/// </remarks>
internal sealed class FallbackOutboxStore : IOutboxStore, IAsyncDisposable
{
    private const int DrainBatchSize = 100;
    private static readonly TimeSpan ShutdownWait = TimeSpan.FromSeconds(10);

    private readonly IOutboxStore _store;
    private readonly IOutboxStore _fallback;
    private readonly TimeSpan _budget;
    private readonly StoreBreaker _breaker;
    private readonly TimeProvider _time;
    private readonly ConversionMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, Task> _handOvers = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _drain;
    private long _nextHandOver;
    private long _fellBack;
    private readonly LogThrottle _fallingBack = new(LogThrottle.PerMinute);
    private long _lastStoreCount;
    private int _disposed;

    public FallbackOutboxStore(
        IOutboxStore store,
        string storeName,
        IOutboxStore fallback,
        string fallbackName,
        TimeSpan budget,
        StoreBreaker breaker,
        TimeProvider time,
        ConversionMetrics metrics,
        ILogger logger)
    {
        _store = store;
        StoreName = storeName;
        _fallback = fallback;
        FallbackName = fallbackName;
        _budget = budget;
        _breaker = breaker;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _drain = Task.Run(DrainLoopAsync);
    }

    /// <summary>The store this one protects.</summary>
    internal IOutboxStore Store => _store;

    /// <summary>The store's name, as in <c>MetaConversions:Outbox:Provider</c>.</summary>
    public string StoreName { get; }

    /// <summary>The fallback's name: <c>memory</c>, or <c>sqlite file</c>.</summary>
    public string FallbackName { get; }

    /// <summary>How many entries went to the fallback since the process started.</summary>
    public long FellBackCount => Interlocked.Read(ref _fellBack);

    public bool IsDurable => _store.IsDurable;

    /// <summary>The breaker, and how many entries wait outside the store: in the fallback, or in a late write.</summary>
    public async ValueTask<Status> GetStatusAsync(CancellationToken cancellationToken)
    {
        var held = await _fallback.CountAsync(cancellationToken).ConfigureAwait(false);
        return new Status(_breaker.Current, held, _handOvers.Count);
    }

    /// <summary>
    /// The store's count plus what waits outside it. While the store is skipped, its last count stands in for it, so
    /// that counting never waits on a sick store.
    /// </summary>
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        var outside = await _fallback.CountAsync(cancellationToken).ConfigureAwait(false) + _handOvers.Count;
        if (_breaker.Current.OpenSince is null)
        {
            Interlocked.Exchange(ref _lastStoreCount, await _store.CountAsync(cancellationToken).ConfigureAwait(false));
        }

        return Interlocked.Read(ref _lastStoreCount) + outside;
    }

    public ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        if (!_breaker.TryPass(out _))
        {
            return ToFallbackAsync(entry, FallbackReason.StoreSkipped, null);
        }

        Task<bool> write;
        try
        {
            // Never cancelled: once handed to the store, only the write's own outcome says where the entry is.
            write = _store.EnqueueAsync(entry, CancellationToken.None).AsTask();
        }
        catch (Exception ex) // the write was given no token: any exception, a cancellation included, is its failure
        {
            write = Task.FromException<bool>(ex);
        }

        return write.IsCompleted ? SettleAsync(write, entry) : WaitWithinBudgetAsync(write, entry);
    }

    public ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken) => _store.WaitForEntriesAsync(cancellationToken);

    public ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken) =>
        _store.LeaseAsync(maxCount, linger, cancellationToken);

    public ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken) =>
        _store.AcknowledgeAsync(entries, cancellationToken);

    public ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken) =>
        _store.RetryLaterAsync(entries, delay, cancellationToken);

    public ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken) =>
        _store.DeadLetterAsync(entries, reason, cancellationToken);

    /// <summary>The store's dead letters, with those of entries that grew too old in the fallback.</summary>
    public async ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken)
    {
        var local = await _fallback.GetRecentDeadLettersAsync(maxCount, cancellationToken).ConfigureAwait(false);
        var stored = await _store.GetRecentDeadLettersAsync(maxCount, cancellationToken).ConfigureAwait(false);
        if (local.Count == 0)
        {
            return stored;
        }

        return [.. stored.Concat(local).OrderBy(d => d.At).TakeLast(maxCount)];
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        await _drain.ConfigureAwait(false);

        // Late writes settle (in the store, or in the fallback) before the last move back; the store's own time-out
        // ends them.
        try
        {
            await Task.WhenAll(_handOvers.Values).WaitAsync(ShutdownWait, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Counted below as lost.
        }

        // The store is tried once more, skipped or not: what it does not take now is lost with the process.
        try
        {
            while (await DrainOnceAsync(CancellationToken.None, lastChance: true).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception ex)
        {
            Log.FallbackDrainFailed(_logger, ex, StoreName);
        }

        var left = await _fallback.CountAsync(CancellationToken.None).ConfigureAwait(false);
        var lost = (_fallback.IsDurable ? 0 : left) + _handOvers.Count;
        if (lost > 0)
        {
            Log.FallbackLostAtShutdown(_logger, lost, FallbackName, StoreName);
        }

        if (_fallback.IsDurable && left > 0)
        {
            Log.FallbackKeptAtShutdown(_logger, left, FallbackName, StoreName);
        }

        _closing.Dispose();
        if (_fallback is IAsyncDisposable fallback)
        {
            await fallback.DisposeAsync().ConfigureAwait(false);
        }

        if (_store is IAsyncDisposable store)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<bool> WaitWithinBudgetAsync(Task<bool> write, OutboxEntry entry)
    {
        try
        {
            await write.WaitAsync(_budget, _time).ConfigureAwait(false);
        }
        catch (Exception) when (!write.IsCompleted)
        {
            // The budget ran out; the write goes on.
        }
        catch (Exception)
        {
            // The write failed within the budget: settled below.
        }

        if (write.IsCompleted)
        {
            return await SettleAsync(write, entry).ConfigureAwait(false);
        }

        // Late: the request goes on. The entry is the write's until it settles; only a failed write hands it to the
        // fallback, so it is never in both.
        if (_breaker.Failed($"no answer within MetaConversions:Outbox:EnqueueBudget ({_budget.TotalMilliseconds:0} ms)"))
        {
            Log.StoreSkipped(_logger, StoreName, _breaker.Current.ConsecutiveFailures, _breaker.Current.LastFailure ?? "", FallbackName, _breaker.ProbeIn());
        }

        _metrics.OutboxLateWrite();
        var id = Interlocked.Increment(ref _nextHandOver);
        var handOver = HandOverAsync(write, entry, id);
        _handOvers.TryAdd(id, handOver);
        if (handOver.IsCompleted)
        {
            _handOvers.TryRemove(id, out _);
        }

        return true;
    }

    private async ValueTask<bool> SettleAsync(Task<bool> write, OutboxEntry entry)
    {
        if (write.IsCompletedSuccessfully)
        {
            if (_breaker.Succeeded())
            {
                Log.StoreBack(_logger, StoreName, await _fallback.CountAsync(CancellationToken.None).ConfigureAwait(false), FallbackName);
            }

            return write.Result;
        }

        var failure = write.Exception?.InnerException ?? new InvalidOperationException("The write was cancelled.");
        if (_breaker.Failed(failure.GetType().Name))
        {
            Log.StoreSkipped(_logger, StoreName, _breaker.Current.ConsecutiveFailures, failure.GetType().Name, FallbackName, _breaker.ProbeIn());
        }

        return await ToFallbackAsync(entry, FallbackReason.Failed, failure).ConfigureAwait(false);
    }

    /// <summary>Waits for a write that outlived the budget; puts the entry in the fallback if it fails.</summary>
    private async Task HandOverAsync(Task<bool> write, OutboxEntry entry, long id)
    {
        try
        {
            bool stored;
            Exception? failure = null;
            try
            {
                stored = await write.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                stored = false;
                failure = ex;
            }

            if (stored && _breaker.Succeeded())
            {
                // Slow, not down: the store takes events again at once, instead of after the break.
                Log.StoreBack(_logger, StoreName, await _fallback.CountAsync(CancellationToken.None).ConfigureAwait(false), FallbackName);
            }

            if (!stored)
            {
                Exception? refused = null;
                try
                {
                    stored = await ToFallbackAsync(entry, FallbackReason.LateFailed, failure).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    refused = ex;
                }

                if (!stored)
                {
                    // The request was told its event was queued: say loudly that it is not.
                    Log.LateWriteLost(_logger, refused ?? failure, entry.EventName, entry.EventId, StoreName, FallbackName);
                    _metrics.Dropped(ConversionMetrics.StoreFailed);
                }
            }
        }
        finally
        {
            _handOvers.TryRemove(id, out _);
        }
    }

    /// <summary>Puts the entry in the fallback; <see langword="false"/> when the fallback is full too.</summary>
    private async ValueTask<bool> ToFallbackAsync(OutboxEntry entry, string reason, Exception? failure)
    {
        if (!await _fallback.EnqueueAsync(entry, CancellationToken.None).ConfigureAwait(false))
        {
            return false;
        }

        _metrics.OutboxFallback(reason);

        Interlocked.Increment(ref _fellBack);
        Report(failure);
        return true;
    }

    /// <summary>One warning a minute at most, with the count since the last, however many requests fall back.</summary>
    private void Report(Exception? failure)
    {
        if (_fallingBack.ShouldLog(_time, out _, out var unreported))
        {
            var held = _fallback.CountAsync(CancellationToken.None);
            Log.EventsFellBack(_logger, failure, unreported, StoreName, FallbackName, held.IsCompletedSuccessfully ? held.Result : -1);
        }
    }

    /// <summary>Moves what the fallback holds back to the store whenever the breaker lets it through.</summary>
    private async Task DrainLoopAsync()
    {
        var closing = _closing.Token;
        try
        {
            while (await _fallback.WaitForEntriesAsync(closing).ConfigureAwait(false))
            {
                var wait = _breaker.ProbeIn();
                if (wait > TimeSpan.Zero)
                {
                    await WaitForTheBreakAsync(wait, closing).ConfigureAwait(false);
                    continue;
                }

                try
                {
                    if (await DrainOnceAsync(closing).ConfigureAwait(false) < 0)
                    {
                        // A request is probing the store: look again shortly.
                        await Task.Delay(TimeSpan.FromMilliseconds(100), _time, closing).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (!ex.IsCancellationBy(closing))
                {
                    Log.FallbackDrainFailed(_logger, ex, StoreName);
                    await Task.Delay(TimeSpan.FromSeconds(1), _time, closing).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
            // Closing: DisposeAsync moves what it can.
        }
    }

    /// <summary>Waits out what is left of the break, <paramref name="wait"/> as read from the clock a moment ago.</summary>
    private async Task WaitForTheBreakAsync(TimeSpan wait, CancellationToken closing)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(closing);
        var delay = Task.Delay(wait, _time, timer.Token);

        // A clock moved on between reading it and setting the timer would set it too late: look again once it is set.
        if (_breaker.ProbeIn() > TimeSpan.Zero)
        {
            await delay.ConfigureAwait(false);
        }
        else
        {
            await timer.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Moves one batch from the fallback to the store, each entry acknowledged in the fallback only once the store has
    /// it. Returns how many moved; -1 when the breaker did not let it through.
    /// </summary>
    private async Task<int> DrainOnceAsync(CancellationToken cancellationToken, bool lastChance = false)
    {
        var batch = await _fallback.LeaseAsync(DrainBatchSize, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        if (batch.Count == 0)
        {
            return 0;
        }

        if (!_breaker.TryPass(out _) && !lastChance)
        {
            await _fallback.RetryLaterAsync(batch, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
            return -1;
        }

        var moved = 0;
        try
        {
            for (; moved < batch.Count; moved++)
            {
                // Awaited to the end, however long: abandoning a write that later succeeds would store the entry twice.
                await _store.EnqueueAsync(batch[moved], CancellationToken.None).ConfigureAwait(false);
                if (moved == 0 && _breaker.Succeeded())
                {
                    Log.StoreBack(_logger, StoreName, await _fallback.CountAsync(CancellationToken.None).ConfigureAwait(false), FallbackName);
                }
            }
        }
        catch (Exception ex)
        {
            // Any failure, a cancelled write included, settles the probe this may be.
            if (_breaker.Failed(ex.GetType().Name))
            {
                Log.StoreSkipped(_logger, StoreName, _breaker.Current.ConsecutiveFailures, ex.GetType().Name, FallbackName, _breaker.ProbeIn());
            }

            await _fallback.RetryLaterAsync(Slice(batch, moved, batch.Count - moved), TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
        }

        if (moved > 0)
        {
            await _fallback.AcknowledgeAsync(Slice(batch, 0, moved), CancellationToken.None).ConfigureAwait(false);
            _metrics.OutboxDrained(moved);
            Log.FallbackDrained(_logger, moved, FallbackName, StoreName);
        }

        return moved;
    }

    private static OutboxEntry[] Slice(IReadOnlyList<OutboxEntry> batch, int start, int count)
    {
        var slice = new OutboxEntry[count];
        for (var i = 0; i < count; i++)
        {
            slice[i] = batch[start + i];
        }

        return slice;
    }

    /// <summary>What the health check reports.</summary>
    /// <param name="Breaker">The breaker's state.</param>
    /// <param name="Held">Entries in the fallback.</param>
    /// <param name="LateWrites">Writes that outlived the budget and have not settled yet.</param>
    public readonly record struct Status(StoreBreaker.State Breaker, long Held, int LateWrites);

    /// <summary>The values of the <c>reason</c> tag of <c>capimiddleware.outbox.fallback</c>.</summary>
    internal static class FallbackReason
    {
        public const string Failed = "failed";
        public const string LateFailed = "late_failed";
        public const string StoreSkipped = "store_skipped";
    }
}
