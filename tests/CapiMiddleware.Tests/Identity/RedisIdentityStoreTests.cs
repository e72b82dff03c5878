using CapiMiddleware.Records;
using CapiMiddleware.Identity;
using CapiMiddleware.Outbox.Redis;
using CapiMiddleware.Tests.Infrastructure;
using StackExchange.Redis;

namespace CapiMiddleware.Tests.Identity;

/// <summary>The Redis store on a real redis-server: the contract, two instances as two nodes, and its keys.</summary>
public sealed class RedisIdentityStoreTests(RedisServer redis) : SharedIdentityStoreContract, IClassFixture<RedisServer>
{
    private readonly string _prefix = $"test:{Guid.NewGuid():N}";

    [SkippableFact]
    public async Task An_identity_is_one_key_under_the_outbox_prefix_that_redis_expires_with_it()
    {
        var store = Open();
        await store.SaveAsync("order-1", Identity("a"), Time.GetUtcNow() + TimeSpan.FromHours(1), default);

        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = admin.GetDatabase();
        var key = $"{{{_prefix}}}:identity:order-1";
        var ttl = await db.KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
        Assert.DoesNotContain("order-1", (string?)await db.StringGetAsync(key)); // the key is the key, the value the identity

        Assert.NotNull(await store.TakeAsync("order-1", Time.GetUtcNow(), default));
        Assert.False(await db.KeyExistsAsync(key));
    }

    [SkippableFact]
    public async Task A_key_redis_expired_on_its_own_is_unknown_and_leaves_the_count_with_the_next_saves()
    {
        var store = Open();
        await store.SaveAsync("order-1", Identity("a"), Time.GetUtcNow() + TimeSpan.FromMinutes(1), default);
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            Assert.True(await admin.GetDatabase().KeyDeleteAsync($"{{{_prefix}}}:identity:order-1")); // as Redis's expiry would
        }

        Assert.Null(await store.TakeAsync("order-1", Time.GetUtcNow(), default));
        Assert.Equal(0, await store.CountAsync(default));
    }

    private protected override IKeptRecords<CapturedIdentity> CreateStore()
    {
        redis.Require();
        return RedisKeptRecords<CapturedIdentity>.Connect(redis.ConnectionString, _prefix, CapturedIdentity.Set);
    }
}
