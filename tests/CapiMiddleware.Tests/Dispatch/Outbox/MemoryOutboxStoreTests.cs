using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Outbox.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>The default store: the contract, and its bound.</summary>
public sealed class MemoryOutboxStoreTests : OutboxStoreContract
{
    private StaleEntries Stale { get; } = StaleEntriesContract.NewStale();

    private int _capacity = 100;

    [Fact]
    public async Task The_capacity_counts_everything_held_leased_and_retried_included()
    {
        _capacity = 2;
        var store = Open();
        var accepted = new List<bool>();
        foreach (var id in new[] { "a", "b", "c" })
        {
            accepted.Add(await store.EnqueueAsync(Entry(id), default));
        }

        Assert.Equal([true, true, false], accepted);

        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);
        await store.RetryLaterAsync(leased, TimeSpan.FromMinutes(5), default);
        Assert.False(await store.EnqueueAsync(Entry("d"), default));

        var store2 = Open();
        Assert.True(await store2.EnqueueAsync(Entry("e"), default)); // one store's bound is its own
        Assert.False(store.IsDurable);
    }

    [Fact]
    public async Task Acknowledged_and_dead_lettered_entries_make_room()
    {
        _capacity = 2;
        var store = Open();
        await store.EnqueueAsync(Entry("a"), default);
        await store.EnqueueAsync(Entry("b"), default);
        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);

        await store.AcknowledgeAsync([leased[0]], default);
        await store.DeadLetterAsync([leased[1]], "refused", default);

        Assert.True(await store.EnqueueAsync(Entry("c"), default));
        Assert.True(await store.EnqueueAsync(Entry("d"), default));
        Assert.False(await store.EnqueueAsync(Entry("e"), default));
    }

    [SkippableFact]
    public Task Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason() =>
        StaleEntriesContract.Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason(Open(), Stale, Entry);

    protected override IOutboxStore CreateStore(TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddOptions<MetaConversionsOptions>().Configure(o => o.QueueCapacity = _capacity);
        var options = services.BuildServiceProvider().GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>();
        return new MemoryOutboxStore(options, time, Stale);
    }
}
