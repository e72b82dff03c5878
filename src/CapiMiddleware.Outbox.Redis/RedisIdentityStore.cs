using CapiMiddleware.Identity;
using StackExchange.Redis;

namespace CapiMiddleware.Outbox.Redis;

/// <summary>
/// Identities in the <c>redis</c> outbox's Redis, shared by the nodes of a web farm: the webhook may reach another node
/// than the checkout. Each is a string key <c>{prefix}:identity:{key}</c> holding its JSON with its expiry, set with
/// <c>PXAT</c> so Redis drops it on time; a take is <c>GETDEL</c>, so one webhook takes it.
/// </summary>
/// <remarks>
/// The prefix is <c>MetaConversions:Outbox:RedisKeyPrefix</c>, in braces as the outbox's keys are (one hash tag, one
/// cluster slot, so the scripts below may touch two keys). A sorted set <c>{prefix}:identities</c> holds the keys by
/// expiry, for the count: a save adds to it and removes a few entries past their expiry, a take removes its own. The
/// count (<c>ZCARD</c>) is exact but for identities that expired since the last save, which it still counts.
/// </remarks>
internal sealed class RedisIdentityStore : IIdentityStore, IAsyncDisposable
{
    // Bounded work per save: a burst of expiries is cleared over the next saves.
    private const int SweepPerSave = 64;

    // KEYS: the identity, the index. ARGV: the value, its expiry and now (Unix ms), the index member, the sweep limit.
    private const string SaveScript = """
        redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
        local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[5]))
        if #expired > 0 then redis.call('ZREM', KEYS[2], unpack(expired)) end
        redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
        return #expired
        """;

    private const string TakeScript = """
        local value = redis.call('GETDEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        return value
        """;

    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _redis;
    private readonly string _keyPrefix;
    private readonly RedisKey _index;
    private int _disposed;

    private RedisIdentityStore(ConnectionMultiplexer connection, string keyPrefix)
    {
        _connection = connection;
        _redis = connection.GetDatabase();
        _keyPrefix = $"{{{keyPrefix}}}:identity:";
        _index = $"{{{keyPrefix}}}:identities";
    }

    /// <summary>Connects as the outbox does: a Redis down at start is retried in the background, not fatal.</summary>
    public static RedisIdentityStore Connect(string connectionString, string keyPrefix)
    {
        // A connection of its own: the outbox's is private to its store (behind the fallback), and a second one is cheap.
        return new RedisIdentityStore(
            ConnectionMultiplexer.Connect(RedisOutboxStore.ConnectionOptions(connectionString, "capi-identities")), keyPrefix);
    }

    public async ValueTask SaveAsync(string key, CapturedIdentity identity, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(identity);
        // PXAT refuses 0 and below; any time in the past makes Redis drop the key at once, as expired.
        var expires = Math.Max(expiresAt.ToUnixTimeMilliseconds(), 1);
        var value = IdentityJsonContext.Encode(new ExpiringIdentity(expires, identity));
        await _redis.ScriptEvaluateAsync(
            SaveScript,
            [KeyOf(key), _index],
            [value, expires, identity.CapturedAt.ToUnixTimeMilliseconds(), key, SweepPerSave]).ConfigureAwait(false);
    }

    public async ValueTask<CapturedIdentity?> TakeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var value = (byte[]?)await _redis.ScriptEvaluateAsync(TakeScript, [KeyOf(key), _index], [key]).ConfigureAwait(false);

        // Redis's clock drops the key; the caller's clock decides too, so both agree with the other stores.
        return value is not null && IdentityJsonContext.DecodeExpiring(value) is { } kept && kept.ExpiresAt > now.ToUnixTimeMilliseconds()
            ? kept.Identity
            : null;
    }

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken) =>
        await _redis.SortedSetLengthAsync(_index).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private RedisKey KeyOf(string key) => _keyPrefix + key;
}
