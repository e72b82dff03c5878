using CapiMiddleware.Records;
using CapiMiddleware.Identity;

namespace CapiMiddleware.Tests.Identity;

/// <summary>The memory store: the contract, and its bound.</summary>
public sealed class MemoryIdentityStoreTests : IdentityStoreContract
{
    [Fact]
    public async Task When_full_the_oldest_identity_is_evicted_and_counted()
    {
        var evictions = new List<int>();
        var store = new MemoryKeptRecords<CapturedIdentity>(3, evictions.Add);
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            await store.SaveAsync(key, Identity(key), Time.GetUtcNow() + Lifetime, default);
        }

        Assert.Equal(3, await store.CountAsync(default));
        Assert.Equal(1, store.Evicted);
        Assert.Equal([1], evictions);
        Assert.Null(await store.TakeAsync("a", Time.GetUtcNow(), default));
        foreach (var key in new[] { "b", "c", "d" })
        {
            Assert.NotNull(await store.TakeAsync(key, Time.GetUtcNow(), default));
        }
    }

    [Fact]
    public async Task Replacing_an_identity_makes_it_the_newest_and_evicts_nothing()
    {
        var store = new MemoryKeptRecords<CapturedIdentity>(2);
        await store.SaveAsync("a", Identity("a"), Time.GetUtcNow() + Lifetime, default);
        await store.SaveAsync("b", Identity("b"), Time.GetUtcNow() + Lifetime, default);
        await store.SaveAsync("a", Identity("a2"), Time.GetUtcNow() + Lifetime, default);
        Assert.Equal(0, store.Evicted);

        await store.SaveAsync("c", Identity("c"), Time.GetUtcNow() + Lifetime, default);

        Assert.Equal(1, store.Evicted);
        Assert.Null(await store.TakeAsync("b", Time.GetUtcNow(), default));
        Assert.Equal("fb.1.1700000000000.a2", (await store.TakeAsync("a", Time.GetUtcNow(), default))?.ClickId);
    }

    [Fact]
    public async Task Expired_identities_make_room_without_counting_as_evicted()
    {
        var store = new MemoryKeptRecords<CapturedIdentity>(2);
        await store.SaveAsync("a", Identity("a"), Time.GetUtcNow() + TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("b", Identity("b"), Time.GetUtcNow() + TimeSpan.FromMinutes(1), default);

        Time.Advance(TimeSpan.FromMinutes(1));
        await store.SaveAsync("c", Identity("c"), Time.GetUtcNow() + Lifetime, default);

        Assert.Equal((0, 1), (store.Evicted, await store.CountAsync(default)));
    }

    [Fact]
    public async Task Saves_from_many_threads_stay_within_the_capacity()
    {
        var store = new MemoryKeptRecords<CapturedIdentity>(100);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                await store.SaveAsync($"{t}-{i}", Identity("x"), Time.GetUtcNow() + Lifetime, default);
            }
        })));

        Assert.Equal((100, 3_900), (await store.CountAsync(default), store.Evicted));
    }

    private protected override IKeptRecords<CapturedIdentity> CreateStore() => new MemoryKeptRecords<CapturedIdentity>(10_000);
}
