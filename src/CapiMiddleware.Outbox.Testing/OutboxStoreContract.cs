using System.Text;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace CapiMiddleware.Outbox.Testing;

/// <summary>
/// What every outbox store promises the library's sender: derive a test class from this one, return a new store on
/// this test's data from <see cref="CreateStore"/>, and every test here runs against it (xunit 2). The library runs
/// it against its own stores: memory, SQLite on a temporary file, Redis on a real redis-server.
/// </summary>
/// <remarks>
/// Most tests run the store on a <see cref="FakeTimeProvider"/> the test moves: the store must take every time (linger,
/// retry delays, polls, lease renewals) from the <see cref="TimeProvider"/> it is given, and an enqueue must wake a
/// lease or a wait of the same store at once, without a poll. They are <c>[SkippableFact]</c>s (Xunit.SkippableFact):
/// <see cref="CreateStore"/> may call <c>Skip.If</c> when the store's server is not there. Entries too old for Meta are
/// not a store's concern: the library drops them.
/// </remarks>
public abstract class OutboxStoreContract : IAsyncLifetime
{
    /// <summary>The lease time-out a store under test must use (<c>MetaConversions:Outbox:LeaseTimeout</c>): 1 second.</summary>
    protected static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(1);

    private readonly List<IOutboxStore> _opened = [];

    /// <summary>Runs before each test; nothing by default.</summary>
    /// <returns>A completed task.</returns>
    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Disposes every store the test opened (those that are <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>).</summary>
    /// <returns>A task that completes when they are disposed.</returns>
    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            if (store is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else if (store is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }

    /// <summary>Entries come back oldest first, every field kept, and leave the store when acknowledged.</summary>
    /// <returns>The test.</returns>
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

    /// <summary>A lease takes at most the batch size, and never an entry another lease holds.</summary>
    /// <returns>The test.</returns>
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

    /// <summary>A lease that lingers returns as soon as enough entries arrive to fill the batch.</summary>
    /// <returns>The test.</returns>
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

    /// <summary>A lease that lingers returns what there is when the linger time ends on the store's clock.</summary>
    /// <returns>The test.</returns>
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

    /// <summary>Waiting for entries ends when one is enqueued.</summary>
    /// <returns>The test.</returns>
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

    /// <summary>A retried entry is leased again only after its delay, with its failed attempts.</summary>
    /// <returns>The test.</returns>
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
        await WaitUntilAsync(async () => (again = await store.LeaseAsync(1, TimeSpan.Zero, default)).Count > 0, "the entry is back once its delay has passed");
        var entry = Assert.Single(again);
        Assert.Equal(("a", 2), (entry.EventId, entry.FailedAttempts));
    }

    /// <summary>An entry retried without a delay can be leased at once.</summary>
    /// <returns>The test.</returns>
    [SkippableFact]
    public async Task An_entry_retried_without_delay_can_be_leased_at_once()
    {
        var store = Open();
        await store.EnqueueAsync(Entry("a"), default);
        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);

        await store.RetryLaterAsync(leased, TimeSpan.Zero, default);

        Assert.Equal("a", Assert.Single(await store.LeaseAsync(10, TimeSpan.Zero, default)).EventId);
    }

    /// <summary>A dead letter leaves the queue and is kept with its reason, newest last.</summary>
    /// <returns>The test.</returns>
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

    /// <summary>
    /// Moves <paramref name="time"/> on in steps until <paramref name="task"/> completes, and returns its result: for a
    /// wait that a store's clock ends, where the test cannot know when the store has started the wait.
    /// </summary>
    /// <typeparam name="T">The wait's result.</typeparam>
    /// <param name="time">The store's clock.</param>
    /// <param name="task">The wait.</param>
    /// <returns>The wait's result.</returns>
    protected static async Task<T> AdvanceUntilDoneAsync<T>(FakeTimeProvider time, Task<T> task)
    {
        ArgumentNullException.ThrowIfNull(time);
        await WaitUntilAsync(
            () =>
            {
                if (task.IsCompleted)
                {
                    return Task.FromResult(true);
                }

                time.Advance(TimeSpan.FromMilliseconds(10));
                return Task.FromResult(false);
            },
            "the store's clock ends the wait");
        return await task;
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, looking every 10 ms of real time, for work the store does in the
    /// background; fails after 30 seconds, saying <paramref name="what"/> it waited for.
    /// </summary>
    /// <param name="condition">What the test waits for.</param>
    /// <param name="what">What it is, for the failure's message.</param>
    /// <returns>A task that completes once the condition holds.</returns>
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting until " + what);
            }

            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Opens a store on this test's data, disposed with the test; a shared store's second call is another process (or
    /// node) on the same data.
    /// </summary>
    /// <param name="time">The store's clock; the system's by default.</param>
    /// <returns>The store.</returns>
    protected IOutboxStore Open(TimeProvider? time = null)
    {
        var store = CreateStore(time ?? TimeProvider.System);
        _opened.Add(store);
        return store;
    }

    /// <summary>Disposes <paramref name="store"/> with the test.</summary>
    /// <typeparam name="T">The store's type.</typeparam>
    /// <param name="store">A store the test opened itself.</param>
    /// <returns><paramref name="store"/>.</returns>
    protected T Track<T>(T store)
        where T : IOutboxStore
    {
        _opened.Add(store);
        return store;
    }

    /// <summary>
    /// Creates a store on this test's data (a new file, a new key prefix): the first call of a test finds it empty, and
    /// every later call of the same test opens the same data again, as another process would.
    /// </summary>
    /// <param name="time">The clock the store must take every time from (lease time-out <see cref="LeaseTimeout"/>).</param>
    /// <returns>The store.</returns>
    protected abstract IOutboxStore CreateStore(TimeProvider time);

    /// <summary>An entry of a small Purchase for pixel 1234567890, as the library enqueues it.</summary>
    /// <param name="eventId">The event's ID, what the tests compare.</param>
    /// <param name="eventTime">The event's time; now by default.</param>
    /// <param name="actionSource">The event's action source; <c>website</c> by default.</param>
    /// <returns>The entry.</returns>
    protected static OutboxEntry Entry(string eventId, DateTimeOffset? eventTime = null, string actionSource = "website")
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
