using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Outbox.Redis;
using CapiMiddleware.Outbox.Testing;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>
/// The Redis store on a real redis-server: the contract, and two store instances as two nodes of a web farm. Each
/// test has keys of its own.
/// </summary>
public sealed class RedisOutboxStoreTests(RedisServer redis) : SharedOutboxStoreContract, IClassFixture<RedisServer>
{
    private StaleEntries Stale { get; } = StaleEntriesContract.NewStale();

    private readonly string _prefix = $"test:{Guid.NewGuid():N}";

    [SkippableFact]
    public async Task Another_node_claims_what_a_vanished_node_leased_once_the_lease_timeout_has_passed()
    {
        // A node whose clock never moves never renews its leases: as good as gone once it stops calling the store.
        var vanishing = Node(new FakeTimeProvider(DateTimeOffset.UtcNow));
        var survivor = Node();
        foreach (var id in new[] { "a", "b", "c" })
        {
            await vanishing.EnqueueAsync(Entry(id), default);
        }

        var lost = await vanishing.LeaseAsync(2, TimeSpan.Zero, default);
        Assert.Equal(["a", "b"], lost.Select(e => e.EventId));

        Assert.Equal(["c"], (await survivor.LeaseAsync(10, TimeSpan.Zero, default)).Select(e => e.EventId));
        // Redis judges the lease by its own clock: the survivor claims once the entries have been idle that long.
        var claimed = new List<OutboxEntry>();
        await Eventually.TrueAsync(async () => { claimed.AddRange(await survivor.LeaseAsync(10, TimeSpan.Zero, default)); return claimed.Count >= 2; }, "the survivor claims what the vanished node leased");
        Assert.Equal(["a", "b"], claimed.Select(e => e.EventId).Order());

        // The vanished node coming back late cannot put a second copy in the queue.
        await vanishing.RetryLaterAsync(lost, TimeSpan.Zero, default);
        await survivor.AcknowledgeAsync(claimed, default);
        Assert.Equal(1, await survivor.CountAsync(default)); // "c", still leased
    }

    [SkippableFact]
    public async Task Each_node_reads_the_stream_under_a_consumer_name_of_its_own()
    {
        Assert.NotEqual(((RedisOutboxStore)Node()).Consumer, ((RedisOutboxStore)Node()).Consumer);
    }

    [SkippableFact]
    public async Task A_node_that_stops_cleanly_hands_back_what_it_held_and_queued_entries_stay()
    {
        var leaving = (RedisOutboxStore)Node();
        await leaving.EnqueueAsync(Entry("a"), default);
        await leaving.EnqueueAsync(Entry("b"), default);
        await leaving.LeaseAsync(1, TimeSpan.Zero, default);

        await leaving.DisposeAsync();

        var next = Node();
        Assert.Equal(2, await next.CountAsync(default));
        Assert.Equal(["a", "b"], (await next.LeaseAsync(10, TimeSpan.Zero, default)).Select(e => e.EventId).Order());
    }

    [SkippableFact]
    public async Task A_redis_that_lost_its_data_gets_the_consumer_group_back()
    {
        var store = Node();
        await store.EnqueueAsync(Entry("before"), default);
        await store.AcknowledgeAsync(await store.LeaseAsync(10, TimeSpan.Zero, default), default);

        // What a restart without persistence leaves: no stream, no group.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            Assert.True(await admin.GetDatabase().KeyDeleteAsync($"{{{_prefix}}}:stream"));
        }

        await store.EnqueueAsync(Entry("after"), default);
        Assert.True(await store.WaitForEntriesAsync(default).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("after", Assert.Single(await store.LeaseAsync(10, TimeSpan.Zero, default)).EventId);
    }

    [SkippableFact]
    public Task Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason() =>
        StaleEntriesContract.Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason(Open(), Stale, Entry);

    protected override IOutboxStore CreateStore(TimeProvider time)
    {
        redis.Require();
        return RedisOutboxStore.Connect(redis.ConnectionString, _prefix, LeaseTimeout, time, Stale, NullLogger.Instance);
    }

    private IOutboxStore Node(TimeProvider? time = null) => Open(time);
}
