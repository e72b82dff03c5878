using CapiMiddleware.Records;
using StackExchange.Redis;

namespace CapiMiddleware.Outbox.Redis;

/// <summary>
/// Kept records in the <c>redis</c> outbox's Redis, shared by the nodes of a web farm: the webhook may reach another node
/// than the checkout. Each is a string key <c>{prefix}:{item}:{key}</c> (<see cref="KeptRecordSet{T}.ItemName"/>:
/// <c>{prefix}:identity:{key}</c> for the identities) holding its JSON with its expiry, set with <c>PXAT</c> so Redis
/// drops it on time; a take is <c>GETDEL</c>, so one webhook takes it.
/// </summary>
/// <remarks>
/// The prefix is <c>MetaConversions:Outbox:RedisKeyPrefix</c>, in braces as the outbox's keys are (one hash tag, one
/// cluster slot, so the scripts below may touch two keys). A sorted set <c>{prefix}:{set}</c> (<c>{prefix}:identities</c>) holds the keys by
/// expiry, for the count: a save adds to it and removes a few entries past their expiry, a take removes its own. The
/// count (<c>ZCARD</c>) is exact but for identities that expired since the last save, which it still counts. A set that
/// is not counted (<see cref="KeptRecordSet{T}.Counted"/>: the sent events) has no sorted set: a save is one <c>SET</c>
/// with its expiry, a take one <c>GETDEL</c>.
/// </remarks>
/// <typeparam name="T">The record.</typeparam>
internal sealed class RedisKeptRecords<T> : IKeptRecords<T>, IAsyncDisposable
    where T : class, IKeptRecord
{
    // Bounded work per save: a burst of expiries is cleared over the next saves.
    private const int SweepPerSave = 64;

    // KEYS: the record, the index. ARGV: the value, its expiry and now (Unix ms), the index member, the sweep limit.
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
    private readonly KeptRecordSet<T> _set;
    private readonly string _keyPrefix;
    private readonly RedisKey _index;
    private int _disposed;

    private RedisKeptRecords(ConnectionMultiplexer connection, string keyPrefix, KeptRecordSet<T> set)
    {
        _connection = connection;
        _redis = connection.GetDatabase();
        _set = set;
        _keyPrefix = $"{{{keyPrefix}}}:{set.ItemName}:";
        _index = $"{{{keyPrefix}}}:{set.Name}";
    }

    /// <summary>Connects as the outbox does: a Redis down at start is retried in the background, not fatal.</summary>
    public static RedisKeptRecords<T> Connect(string connectionString, string keyPrefix, KeptRecordSet<T> set)
    {
        // A connection of its own: the outbox's is private to its store (behind the fallback), and a second one is cheap.
        return new RedisKeptRecords<T>(
            ConnectionMultiplexer.Connect(RedisOutboxStore.ConnectionOptions(connectionString, "capi-" + set.Name.Replace('_', '-'))), keyPrefix, set);
    }

    public async ValueTask SaveAsync(string key, T record, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(record);
        // PXAT refuses 0 and below; any time in the past makes Redis drop the key at once, as expired.
        var expires = Math.Max(expiresAt.ToUnixTimeMilliseconds(), 1);
        var value = _set.EncodeExpiring(expires, record);
        if (!_set.Counted)
        {
            // A plain key whose expiry Redis keeps: one command, no index to trim. Relative to the caller's clock.
            var lifetime = expiresAt - record.KeptAt;
            await (lifetime > TimeSpan.Zero
                ? _redis.StringSetAsync(KeyOf(key), value, lifetime)
                : _redis.KeyDeleteAsync(KeyOf(key))).ConfigureAwait(false);
            return;
        }

        await _redis.ScriptEvaluateAsync(
            SaveScript,
            [KeyOf(key), _index],
            [value, expires, record.KeptAt.ToUnixTimeMilliseconds(), key, SweepPerSave]).ConfigureAwait(false);
    }

    public async ValueTask<T?> TakeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _set.Counted
            ? Unexpired((byte[]?)await _redis.ScriptEvaluateAsync(TakeScript, [KeyOf(key), _index], [key]).ConfigureAwait(false), now)
            : Unexpired(await _redis.StringGetDeleteAsync(KeyOf(key)).ConfigureAwait(false), now);
    }

    public async ValueTask<T?> FindAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Unexpired(await _redis.StringGetAsync(KeyOf(key)).ConfigureAwait(false), now);
    }

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken) =>
        _set.Counted ? await _redis.SortedSetLengthAsync(_index).ConfigureAwait(false) : -1;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private RedisKey KeyOf(string key) => _keyPrefix + key;

    // Redis's clock drops the key; the caller's clock decides too, so both agree with the other stores.
    private T? Unexpired(byte[]? value, DateTimeOffset now) =>
        value is not null && _set.DecodeExpiring(value) is { } kept && kept.ExpiresAt > now.ToUnixTimeMilliseconds() ? kept.Record : null;
}
