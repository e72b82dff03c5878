using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Outbox.Sqlite;
using CapiMiddleware.Outbox.Testing;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>
/// The budget, the memory fallback and the breaker in front of a durable store, on a fake clock, over a store whose
/// writes the test answers (at once, late, or never): each entry must end up in exactly one of the two.
/// </summary>
public sealed class FallbackOutboxStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly ScriptedStore _store = new();
    private readonly LogCapture _logs = new();
    private readonly IMeterFactory _meters = TestMeters.NewFactory();
    private MemoryOutboxStore _memory = null!;
    private FallbackOutboxStore _guarded = null!;

    public Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddOptions<MetaConversionsOptions>().Configure(o => o.QueueCapacity = 1000);
        var options = services.BuildServiceProvider().GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>();
        var metrics = TestMeters.NewConversionMetrics(_meters);
        var stale = new StaleEntries(_time, metrics, NullLogger<StaleEntries>.Instance);
        _memory = new MemoryOutboxStore(options, _time, stale);
        _guarded = new FallbackOutboxStore(
            _store, "redis", _memory, "memory", Budget, new StoreBreaker(3, BreakDuration, _time), _time, metrics,
            _logs.CreateLogger("CapiMiddleware.Dispatch.Outbox.FallbackOutboxStore"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _store.Mode = WriteMode.Healthy;
        _store.CompleteAll();
        await _guarded.DisposeAsync();
    }

    [Fact]
    public async Task A_write_within_the_budget_goes_to_the_store_and_nowhere_else()
    {
        Assert.True(await _guarded.EnqueueAsync(Entry("a"), default));

        Assert.Equal(["a"], _store.StoredIds);
        Assert.Equal(0, await _memory.CountAsync(default));
        Assert.Equal(0, _guarded.FellBackCount);
    }

    [Fact]
    public async Task A_write_that_outlives_the_budget_releases_the_request_at_the_budget_and_lands_in_the_store_alone_when_it_completes()
    {
        _store.Mode = WriteMode.Hang;
        using var metrics = new MetricCollector<long>(_meters, MetaConversionsDiagnostics.MeterName, "capimiddleware.outbox.late_writes");

        var enqueue = _guarded.EnqueueAsync(Entry("a"), default).AsTask();
        _time.Advance(Budget - TimeSpan.FromMilliseconds(1));
        Assert.False(enqueue.IsCompleted); // the request waits for the store, but not longer than the budget
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await enqueue.WaitAsync(TimeSpan.FromSeconds(5)));

        Assert.Equal(1, (await _guarded.GetStatusAsync(default)).LateWrites);
        _store.CompleteAll(); // the write completes after the request went on: the entry is in the store ...

        await Eventually.TrueAsync(async () => (await _guarded.GetStatusAsync(default)).LateWrites == 0, "the late write settles");
        Assert.Equal(["a"], _store.StoredIds);
        Assert.Equal(0, await _memory.CountAsync(default)); // ... and not also in the fallback
        Assert.Equal(0, _guarded.FellBackCount);
        Assert.Equal(1, metrics.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task A_write_that_outlives_the_budget_and_then_fails_is_handed_to_the_fallback_once_and_moved_back_later()
    {
        _store.Mode = WriteMode.Hang;
        var enqueue = _guarded.EnqueueAsync(Entry("a"), default).AsTask();
        _time.Advance(Budget);
        Assert.True(await enqueue.WaitAsync(TimeSpan.FromSeconds(5)));

        Assert.Empty(_store.StoredIds);
        Assert.Equal(0, await _memory.CountAsync(default)); // the write may still succeed: the fallback waits for its outcome

        _store.Mode = WriteMode.Healthy; // the store is back by the time ...
        _store.FailAll(); // ... the late write fails (Redis's own time-out, seconds later)
        await Eventually.TrueAsync(() => _guarded.FellBackCount == 1, "the failed write hands the entry to the fallback");

        // One failure: the breaker is still closed, so the drain moves it to the store at once.
        await Eventually.TrueAsync(() => _store.StoredIds.Count == 1, "the drain moves the entry to the store");
        await Eventually.TrueAsync(async () => await _memory.CountAsync(default) == 0, "the fallback lets it go");
        Assert.Equal(["a"], _store.StoredIds);
    }

    [Fact]
    public async Task A_refused_write_goes_to_the_fallback_at_once()
    {
        _store.Mode = WriteMode.Refuse;

        var enqueue = _guarded.EnqueueAsync(Entry("a"), default);

        Assert.True(enqueue.IsCompletedSuccessfully); // no wait at all
        Assert.True(await enqueue);
        Assert.Equal(1, await _memory.CountAsync(default));
        Assert.Equal(1, _guarded.FellBackCount);
    }

    [Fact]
    public async Task After_three_failures_requests_skip_the_store_without_waiting_until_the_break_is_over()
    {
        _store.Mode = WriteMode.Hang;
        for (var i = 0; i < 3; i++)
        {
            var enqueue = _guarded.EnqueueAsync(Entry($"late-{i}"), default).AsTask();
            _time.Advance(Budget);
            Assert.True(await enqueue.WaitAsync(TimeSpan.FromSeconds(5)));
        }

        var tried = _store.Calls;
        Assert.Equal(3, tried);
        var opened = Assert.Single(_logs.WithEventId(51));
        Assert.Contains("redis outbox failed 3 times in a row", opened.Message);

        for (var i = 0; i < 20; i++)
        {
            var skipped = _guarded.EnqueueAsync(Entry($"skipped-{i}"), default);
            Assert.True(skipped.IsCompletedSuccessfully); // answered at once, the clock never moved
            Assert.True(await skipped);
        }

        Assert.Equal(tried, _store.Calls);
        Assert.Equal(20, await _memory.CountAsync(default));

        // The warning is said once, then at most once a minute, with the count since.
        var warning = Assert.Single(_logs.WithEventId(50));
        Assert.Contains("1 events did not go into the redis outbox", warning.Message);
        _store.Mode = WriteMode.Refuse; // whoever probes after the break learns at once that the store is still down
        _time.Advance(TimeSpan.FromMinutes(1));
        await _guarded.EnqueueAsync(Entry("a-minute-later"), default);
        Assert.Equal(2, _logs.WithEventId(50).Count());
        Assert.Contains("20 events did not go into the redis outbox", _logs.WithEventId(50).Last().Message);
    }

    [Fact]
    public async Task After_the_break_one_probe_is_let_through_and_a_failed_probe_starts_another_break()
    {
        await OpenTheBreakerAsync();
        _store.Mode = WriteMode.Refuse;
        await _guarded.EnqueueAsync(Entry("in-the-fallback"), default);
        var before = _store.Calls;

        _time.Advance(BreakDuration);
        // One probe, and it fails: every other write goes straight to the fallback. The probe is the drain's or, when
        // the drain has not woken yet, the first of these requests: either way exactly one write reaches the store.
        for (var i = 0; i < 5; i++)
        {
            Assert.True(await _guarded.EnqueueAsync(Entry($"after-{i}"), default));
        }

        await Eventually.TrueAsync(() => _store.Calls == before + 1, "one probe tries the store");
        await Eventually.TrueAsync(
            async () => (await _guarded.GetStatusAsync(default)).Breaker.ConsecutiveFailures > 3, "the failed probe is counted");
        Assert.Equal(before + 1, _store.Calls);
        Assert.NotNull((await _guarded.GetStatusAsync(default)).Breaker.OpenSince);

        // The next break is not over yet: a request would be the probe if it were, so this one asks the store nothing.
        _time.Advance(BreakDuration - TimeSpan.FromSeconds(1));
        Assert.True(await _guarded.EnqueueAsync(Entry("before-the-break-ends"), default));
        Assert.Equal(before + 1, _store.Calls);
    }

    [Fact]
    public async Task A_successful_probe_closes_the_breaker_and_the_fallback_drains_to_the_store_each_entry_once()
    {
        var ids = await OpenTheBreakerAsync();
        for (var i = 0; i < 250; i++)
        {
            var id = $"down-{i}";
            ids.Add(id);
            Assert.True(await _guarded.EnqueueAsync(Entry(id), default));
        }

        _store.FailAll(); // the three late writes that opened the breaker fail after all: the fallback takes them
        await Eventually.TrueAsync(async () => await _memory.CountAsync(default) == 253, "the failed late writes join the fallback");
        var status = await _guarded.GetStatusAsync(default);
        Assert.Equal((253, 0), (status.Held, status.LateWrites));

        _store.Mode = WriteMode.Healthy;
        _time.Advance(BreakDuration);

        await Eventually.TrueAsync(() => _store.StoredIds.Count == ids.Count, "every entry reaches the store");
        await Eventually.TrueAsync(async () => await _memory.CountAsync(default) == 0, "the fallback is empty");
        Assert.Equal(ids.Order(), _store.StoredIds.Order());
        Assert.Equal(ids.Count, _store.StoredIds.Distinct().Count());
        Assert.Null((await _guarded.GetStatusAsync(default)).Breaker.OpenSince);
        Assert.Single(_logs.WithEventId(52));

        // Closed again: the next write goes to the store within the budget.
        Assert.True(await _guarded.EnqueueAsync(Entry("after"), default));
        Assert.Equal(ids.Count + 1, _store.StoredIds.Count);
    }

    [Fact]
    public async Task The_health_check_is_degraded_naming_the_store_and_the_fallback_count_until_the_fallback_is_drained()
    {
        var services = new ServiceCollection();
        services.AddOptions<MetaConversionsOptions>().Configure(o => o.AccessToken = "token");
        var options = services.BuildServiceProvider().GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>();
        var metrics = TestMeters.NewConversionMetrics(_meters);
        var check = new MetaConversionsHealthCheck(new DeliveryHealth(_time), new QueueDepth(_guarded, metrics, _time), options, _guarded);
        var context = new HealthCheckContext();

        await OpenTheBreakerAsync();
        await _guarded.EnqueueAsync(Entry("a"), default);
        var down = await check.CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Degraded, down.Status);
        Assert.Contains("The redis outbox store is unavailable since", down.Description);
        Assert.Contains("1 events wait in the memory fallback and 3 in writes to redis still under way", down.Description);
        Assert.Equal(4L, down.Data["fallback_count"]); // one in the fallback, three late writes not settled yet
        Assert.True(down.Data.ContainsKey("store_unavailable_since"));

        _store.Mode = WriteMode.Healthy;
        _store.CompleteAll();
        _time.Advance(BreakDuration);
        await Eventually.TrueAsync(async () => (await check.CheckHealthAsync(context)).Status == HealthStatus.Healthy, "the check is healthy once the fallback is drained");
        Assert.Equal(0L, (await check.CheckHealthAsync(context)).Data["fallback_count"]);
    }

    [Fact]
    public async Task At_shutdown_what_the_fallback_still_holds_moves_to_the_store_if_it_takes_it_else_it_is_counted_as_lost()
    {
        _store.Mode = WriteMode.Refuse;
        await _guarded.EnqueueAsync(Entry("a"), default);
        await _guarded.EnqueueAsync(Entry("b"), default);

        await _guarded.DisposeAsync();

        var lost = Assert.Single(_logs.WithEventId(56));
        Assert.Contains("2 events were still in the memory fallback at shutdown", lost.Message);
    }

    [Fact]
    public async Task At_shutdown_the_store_is_tried_once_more_even_while_it_is_skipped()
    {
        _store.Mode = WriteMode.Refuse;
        var ids = new List<string> { "a", "b", "c", "d" };
        foreach (var id in ids)
        {
            await _guarded.EnqueueAsync(Entry(id), default);
        }

        Assert.NotNull((await _guarded.GetStatusAsync(default)).Breaker.OpenSince);
        _store.Mode = WriteMode.Healthy; // back, but the break is not over: the drain waits for it
        await _guarded.DisposeAsync();

        Assert.Equal(ids, _store.StoredIds.Order());
        Assert.Empty(_logs.WithEventId(56));
    }

    [Fact]
    public async Task A_late_write_that_succeeds_ends_the_break_at_once_since_the_store_is_slow_not_down()
    {
        await OpenTheBreakerAsync();
        Assert.True(await _guarded.EnqueueAsync(Entry("skipped"), default));
        Assert.Equal(3, _store.Calls);

        _store.Mode = WriteMode.Healthy;
        _store.CompleteAll();
        await Eventually.TrueAsync(async () => (await _guarded.GetStatusAsync(default)).Breaker.OpenSince is null, "the break ends");

        Assert.True(await _guarded.EnqueueAsync(Entry("next"), default)); // the clock never moved
        Assert.Contains("next", _store.StoredIds);
        Assert.Single(_logs.WithEventId(52));
    }

    [Fact]
    public async Task An_sqlite_fallback_keeps_what_the_store_refused_through_a_restart_and_the_next_start_moves_it_to_the_store()
    {
        var folder = Directory.CreateTempSubdirectory("capi-fallback-").FullName;
        try
        {
            var path = Path.Combine(folder, "fallback.db");
            var metrics = TestMeters.NewConversionMetrics(_meters);
            var stale = new StaleEntries(TimeProvider.System, metrics, NullLogger<StaleEntries>.Instance);
            FallbackOutboxStore Start(ScriptedStore store) => new(
                store, "redis", SqliteOutboxStore.Open(path, TimeSpan.FromMinutes(1), TimeProvider.System, stale, NullLogger.Instance), "sqlite file",
                Budget, new StoreBreaker(3, BreakDuration, TimeProvider.System), TimeProvider.System, metrics,
                _logs.CreateLogger("CapiMiddleware.Dispatch.Outbox.FallbackOutboxStore"));

            var down = new ScriptedStore { Mode = WriteMode.Refuse };
            var before = Start(down);
            foreach (var id in new[] { "a", "b", "c" })
            {
                Assert.True(await before.EnqueueAsync(Entry(id), default));
            }

            Assert.Equal(3, (await before.GetStatusAsync(default)).Held);
            await before.DisposeAsync(); // the process ends while the store is still down
            Assert.Contains("3 events stay in the sqlite file fallback at shutdown", Assert.Single(_logs.WithEventId(57)).Message);
            Assert.Empty(_logs.WithEventId(56));

            var back = new ScriptedStore { Mode = WriteMode.Healthy };
            await using var after = Start(back);
            await Eventually.TrueAsync(() => back.StoredIds.Count == 3, "the next start moves the kept events to the store");
            await Eventually.TrueAsync(async () => (await after.GetStatusAsync(default)).Held == 0, "the file lets them go");
            Assert.Equal(["a", "b", "c"], back.StoredIds.Order());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Three writes outlive the budget: the breaker opens. Returns their IDs (their writes are still pending).</summary>
    private async Task<List<string>> OpenTheBreakerAsync()
    {
        _store.Mode = WriteMode.Hang;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = $"late-{i}";
            ids.Add(id);
            var enqueue = _guarded.EnqueueAsync(Entry(id), default).AsTask();
            _time.Advance(Budget);
            Assert.True(await enqueue.WaitAsync(TimeSpan.FromSeconds(5)));
        }

        Assert.NotNull((await _guarded.GetStatusAsync(default)).Breaker.OpenSince);
        return ids;
    }

    private OutboxEntry Entry(string eventId) => new()
    {
        PixelId = "1234567890",
        EventName = "Purchase",
        EventId = eventId,
        EventTime = _time.GetUtcNow().ToUnixTimeSeconds(),
        ActionSource = "website",
        Payload = "{}"u8.ToArray(),
        EnqueuedAt = _time.GetUtcNow(),
    };

    private enum WriteMode
    {
        Healthy,
        Refuse,
        Hang,
    }

    /// <summary>A store whose writes succeed at once, throw at once, or wait for the test to complete or fail them.</summary>
    private sealed class ScriptedStore : IOutboxStore
    {
        private readonly ConcurrentQueue<string> _stored = new();
        private readonly ConcurrentQueue<(OutboxEntry Entry, TaskCompletionSource<bool> Done)> _pending = new();
        private int _calls;

        public WriteMode Mode { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        public List<string> StoredIds => [.. _stored];

        public bool IsDurable => true;

        public ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            switch (Mode)
            {
                case WriteMode.Healthy:
                    _stored.Enqueue(entry.EventId);
                    return ValueTask.FromResult(true);
                case WriteMode.Refuse:
                    throw new IOException("No connection is available.");
                default:
                    var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _pending.Enqueue((entry, done));
                    return new ValueTask<bool>(done.Task);
            }
        }

        public void CompleteAll()
        {
            while (_pending.TryDequeue(out var write))
            {
                _stored.Enqueue(write.Entry.EventId);
                write.Done.SetResult(true);
            }
        }

        public void FailAll()
        {
            while (_pending.TryDequeue(out var write))
            {
                write.Done.SetException(new TimeoutException("Timeout performing XADD"));
            }
        }

        public ValueTask<long> CountAsync(CancellationToken cancellationToken) => ValueTask.FromResult((long)_stored.Count);

        public ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

        public ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<OutboxEntry>>([]);

        public ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<DeadLetter>>([]);
    }
}

/// <summary>The store contract holds through the fallback decorator, over the memory store.</summary>
public sealed class FallbackOutboxStoreContractTests : OutboxStoreContract
{
    private StaleEntries Stale { get; } = StaleEntriesContract.NewStale();

    [SkippableFact]
    public Task Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason() =>
        StaleEntriesContract.Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason(Open(), Stale, Entry);

    protected override IOutboxStore CreateStore(TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddOptions<MetaConversionsOptions>().Configure(o => o.QueueCapacity = 100);
        var options = services.BuildServiceProvider().GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>();
        var metrics = TestMeters.NewConversionMetrics();
        return new FallbackOutboxStore(
            new MemoryOutboxStore(options, time, Stale), "primary", new MemoryOutboxStore(options, time, Stale), "memory",
            TimeSpan.FromMilliseconds(50), new StoreBreaker(3, TimeSpan.FromSeconds(10), time), time, metrics, NullLogger.Instance);
    }
}
