using System.Text;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>
/// What every outbox store promises the sender, run against each real store: memory, SQLite on a temporary file,
/// Redis on a real redis-server.
/// </summary>
public abstract class OutboxStoreContract : IAsyncLifetime
{
    protected static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(1);

    private readonly List<IOutboxStore> _opened = [];

    private protected StaleEntries Stale { get; } = new(TimeProvider.System, TestMeters.NewConversionMetrics(), NullLogger<StaleEntries>.Instance);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            if (store is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task Enqueued_entries_are_leased_in_order_with_every_field_and_leave_on_acknowledgement()
    {
        var store = Open();
        OutboxEntry[] sent = [Entry("a"), Entry("b"), Entry("c", DateTimeOffset.UtcNow.AddDays(-20), "physical_store")];
        foreach (var entry in sent)
        {
            Assert.True(await store.EnqueueAsync(entry, default));
        }

        Assert.Equal(3, await store.CountAsync(default));
        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);

        Assert.Equal(["a", "b", "c"], leased.Select(e => e.EventId));
        var (expected, actual) = (sent[2], leased[2]);
        Assert.Equal(
            (expected.PixelId, expected.EventName, expected.EventTime, expected.ActionSource, expected.EnqueuedAt.ToUnixTimeMilliseconds()),
            (actual.PixelId, actual.EventName, actual.EventTime, actual.ActionSource, actual.EnqueuedAt.ToUnixTimeMilliseconds()));
        Assert.Equal(expected.Payload, actual.Payload);
        Assert.Equal(3, await store.CountAsync(default)); // leased entries are still held

        await store.AcknowledgeAsync(leased, default);
        Assert.Equal(0, await store.CountAsync(default));
        Assert.Empty(await store.LeaseAsync(10, TimeSpan.Zero, default));
    }

    [SkippableFact]
    public async Task A_lease_takes_at_most_the_batch_size_and_never_an_entry_already_leased()
    {
        var store = Open();
        for (var i = 0; i < 5; i++)
        {
            await store.EnqueueAsync(Entry($"e{i}"), default);
        }

        var first = await store.LeaseAsync(2, TimeSpan.Zero, default);
        var second = await store.LeaseAsync(10, TimeSpan.Zero, default);

        Assert.Equal(["e0", "e1"], first.Select(e => e.EventId));
        Assert.Equal(["e2", "e3", "e4"], second.Select(e => e.EventId));
        Assert.Empty(await store.LeaseAsync(10, TimeSpan.Zero, default));
    }

    [SkippableFact]
    public async Task A_lingering_lease_returns_as_soon_as_the_batch_is_full()
    {
        // On a clock that never moves the linger cannot end: only a full batch can end the lease.
        var store = Open(new FakeTimeProvider(DateTimeOffset.UtcNow));
        var lease = store.LeaseAsync(3, TimeSpan.FromSeconds(30), default).AsTask();
        for (var i = 0; i < 3; i++)
        {
            await store.EnqueueAsync(Entry($"e{i}"), default);
        }

        var batch = await lease.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["e0", "e1", "e2"], batch.Select(e => e.EventId).Order());
    }

    [SkippableFact]
    public async Task A_lingering_lease_returns_what_there_is_when_the_linger_ends()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = Open(time);
        await store.EnqueueAsync(Entry("only"), default);
        var start = time.GetUtcNow();

        var lease = store.LeaseAsync(10, TimeSpan.FromMilliseconds(400), default).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(399));
        Assert.False(lease.IsCompleted, "the lease ended before its linger");
        var batch = await AdvanceUntilDoneAsync(time, lease);

        Assert.Equal("only", Assert.Single(batch).EventId);
        Assert.True(time.GetUtcNow() - start >= TimeSpan.FromMilliseconds(400), $"ended after {time.GetUtcNow() - start} on the store's clock");
    }

    [SkippableFact]
    public async Task Waiting_for_entries_ends_when_one_is_enqueued()
    {
        // On a clock that never moves no poll comes due: only the enqueue can end the wait.
        var store = Open(new FakeTimeProvider(DateTimeOffset.UtcNow));
        var wait = store.WaitForEntriesAsync(default).AsTask();
        Assert.Equal(0, await store.CountAsync(default)); // a round trip to the store while the wait is under way
        Assert.False(wait.IsCompleted);

        await store.EnqueueAsync(Entry("a"), default);

        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [SkippableFact]
    public async Task An_entry_retried_later_comes_back_after_the_delay_with_its_failed_attempts()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = Open(time);
        await store.EnqueueAsync(Entry("a"), default);
        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);
        leased[0].FailedAttempts = 2;

        await store.RetryLaterAsync(leased, TimeSpan.FromMilliseconds(700), default);

        Assert.Empty(await store.LeaseAsync(10, TimeSpan.Zero, default));
        Assert.Equal(1, await store.CountAsync(default));
        time.Advance(TimeSpan.FromMilliseconds(699));
        Assert.Empty(await store.LeaseAsync(10, TimeSpan.Zero, default));
        time.Advance(TimeSpan.FromMilliseconds(1));
        IReadOnlyList<OutboxEntry> again = [];
        await Eventually.TrueAsync(async () => (again = await store.LeaseAsync(1, TimeSpan.Zero, default)).Count > 0, "the entry is back once its delay has passed");
        var entry = Assert.Single(again);
        Assert.Equal(("a", 2), (entry.EventId, entry.FailedAttempts));
    }

    [SkippableFact]
    public async Task An_entry_retried_without_delay_can_be_leased_at_once()
    {
        var store = Open();
        await store.EnqueueAsync(Entry("a"), default);
        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);

        await store.RetryLaterAsync(leased, TimeSpan.Zero, default);

        Assert.Equal("a", Assert.Single(await store.LeaseAsync(10, TimeSpan.Zero, default)).EventId);
    }

    [SkippableFact]
    public async Task A_dead_letter_leaves_the_queue_and_is_kept_with_its_reason_newest_last()
    {
        var store = Open();
        foreach (var id in new[] { "a", "b", "c", "d" })
        {
            await store.EnqueueAsync(Entry(id), default);
        }

        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);
        await store.DeadLetterAsync([leased[0]], "Meta said no (code 100) to a", default);
        await store.DeadLetterAsync([leased[1], leased[2]], "Meta said no (code 100) to b and c", default);
        await store.AcknowledgeAsync([leased[3]], default);

        Assert.Equal(0, await store.CountAsync(default));
        Assert.Empty(await store.LeaseAsync(10, TimeSpan.Zero, default));
        var dead = await store.GetRecentDeadLettersAsync(2, default);
        Assert.Equal(["b", "c"], dead.Select(d => d.EventId));
        Assert.All(dead, d => Assert.Equal(("1234567890", "Purchase", "Meta said no (code 100) to b and c"), (d.PixelId, d.EventName, d.Reason)));
        Assert.Equal(["a", "b", "c"], (await store.GetRecentDeadLettersAsync(10, default)).Select(d => d.EventId));
    }

    [SkippableFact]
    public async Task Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason()
    {
        var store = Open();
        var now = DateTimeOffset.UtcNow;
        await store.EnqueueAsync(Entry("fresh", now.AddHours(-1)), default);
        await store.EnqueueAsync(Entry("within-the-margin", now.AddDays(-7).AddMinutes(30)), default);
        await store.EnqueueAsync(Entry("store-sale", now.AddDays(-30), "physical_store"), default);
        await store.EnqueueAsync(Entry("old-store-sale", now.AddDays(-62).AddMinutes(30), "physical_store"), default);

        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);

        Assert.Equal(["fresh", "store-sale"], leased.Select(e => e.EventId));
        Assert.Equal(2, Stale.DroppedCount);
        var dead = await store.GetRecentDeadLettersAsync(10, default);
        Assert.Equal(["old-store-sale", "within-the-margin"], dead.Select(d => d.EventId).Order());
        Assert.All(dead, d => Assert.Equal(StaleEntries.Reason, d.Reason));
        Assert.Equal(2, await store.CountAsync(default));
    }

    /// <summary>
    /// Moves <paramref name="time"/> on in steps until <paramref name="task"/> completes, and returns its result: for a
    /// wait that a store's clock ends, where the test cannot know when the store has started the wait.
    /// </summary>
    private protected static async Task<T> AdvanceUntilDoneAsync<T>(FakeTimeProvider time, Task<T> task)
    {
        await Eventually.TrueAsync(
            () =>
            {
                if (task.IsCompleted)
                {
                    return true;
                }

                time.Advance(TimeSpan.FromMilliseconds(10));
                return false;
            },
            "the store's clock ends the wait");
        return await task;
    }

    /// <summary>Opens a store on this test's data; a durable store's second call is another process (or node) on the same data.</summary>
    private protected IOutboxStore Open(TimeProvider? time = null)
    {
        var store = CreateStore(time ?? TimeProvider.System);
        _opened.Add(store);
        return store;
    }

    /// <summary>Disposes <paramref name="store"/> with the test.</summary>
    private protected T Track<T>(T store)
        where T : IOutboxStore
    {
        _opened.Add(store);
        return store;
    }

    private protected abstract IOutboxStore CreateStore(TimeProvider time);

    private protected static OutboxEntry Entry(string eventId, DateTimeOffset? eventTime = null, string actionSource = "website")
    {
        var time = eventTime ?? DateTimeOffset.UtcNow;
        return new OutboxEntry
        {
            PixelId = "1234567890",
            EventName = "Purchase",
            EventId = eventId,
            EventTime = time.ToUnixTimeSeconds(),
            ActionSource = actionSource,
            Payload = Encoding.UTF8.GetBytes(
                $$$"""{"event_name":"Purchase","event_time":{{{time.ToUnixTimeSeconds()}}},"event_id":"{{{eventId}}}","action_source":"{{{actionSource}}}","custom_data":{"value":1.5,"currency":"USD"}}"""),
            EnqueuedAt = DateTimeOffset.UtcNow,
        };
    }
}
