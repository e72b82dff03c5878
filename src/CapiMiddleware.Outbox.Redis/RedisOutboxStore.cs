using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch.Outbox;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CapiMiddleware.Outbox.Redis;

/// <summary>
/// A store shared by the nodes of a web farm, in Redis Streams. Entries are added to one stream (XADD) and read
/// through one consumer group (XREADGROUP), so each is delivered to one node; each process is a consumer of its own
/// name. An entry leaves the stream only after Meta's 200 (XACK and XDEL). Entries a node has left pending longer
/// than the lease time-out, because it vanished, are claimed by another (XAUTOCLAIM); a live node renews its claims.
/// </summary>
/// <remarks>
/// Keys share one hash tag, <c>{prefix}</c>, so the scripts that touch several work on a cluster too:
/// <c>{prefix}:stream</c> the entries, <c>{prefix}:delayed</c> a sorted set of entries waiting to be retried (scored by
/// due time, moved back to the stream when due), <c>{prefix}:dead</c> a stream of dead letters (the newest 10,000).
/// </remarks>
internal sealed class RedisOutboxStore : IOutboxStore, IAsyncDisposable
{
    private const string Group = "senders";
    private const string EntryField = "e";
    private const int DeadLetterHistory = 10_000;

    // How often a waiting sender asks Redis whether another node added entries or a retry came due.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    // Moves due retries back into the stream. A member is "<original id>|<entry>": the id keeps members unique.
    private const string PromoteScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, member in ipairs(due) do
          redis.call('ZREM', KEYS[1], member)
          local bar = string.find(member, '|', 1, true)
          redis.call('XADD', KEYS[2], '*', 'e', string.sub(member, bar + 1))
        end
        return #due
        """;

    // Whether anything can be leased: a due retry, an entry the group has not delivered, or one pending too long.
    private const string AnyLeasableScript = """
        if #redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, 1) > 0 then return 1 end
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        local delivered = nil
        for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
          local name, last
          for i = 1, #group, 2 do
            if group[i] == 'name' then name = group[i + 1] elseif group[i] == 'last-delivered-id' then last = group[i + 1] end
          end
          if name == ARGV[1] then delivered = last end
        end
        if delivered == nil then return 1 end
        local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
        if #newest > 0 then
          local nm, ns = string.match(newest[1][1], '(%d+)-(%d+)')
          local dm, ds = string.match(delivered, '(%d+)-(%d+)')
          nm, ns, dm, ds = tonumber(nm), tonumber(ns), tonumber(dm), tonumber(ds)
          if nm > dm or (nm == dm and ns > ds) then return 1 end
        end
        if #redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', tonumber(ARGV[3]), '-', '+', 1) > 0 then return 1 end
        return 0
        """;

    // One read of both: an entry moving between the stream and the retries between two reads would be counted twice.
    private const string CountScript = """
        return redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
        """;

    private const string AcknowledgeScript = """
        redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
        return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
        """;

    // Only entries still pending under this consumer: one whose lease ran out belongs to the node that claimed it.
    private const string RetryScript = """
        local moved = 0
        for i = 4, #ARGV, 2 do
          local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
          if #pending > 0 and pending[1][2] == ARGV[2] then
            redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
            redis.call('XDEL', KEYS[1], ARGV[i])
            redis.call('ZADD', KEYS[2], ARGV[3], ARGV[i] .. '|' .. ARGV[i + 1])
            moved = moved + 1
          end
        end
        return moved
        """;

    private const string DeadLetterScript = """
        local moved = 0
        for i = 6, #ARGV, 4 do
          local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
          if #pending > 0 and pending[1][2] == ARGV[2] then
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*',
              'pixel', ARGV[i + 1], 'name', ARGV[i + 2], 'id', ARGV[i + 3], 'reason', ARGV[3], 'at', ARGV[4])
            redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
            redis.call('XDEL', KEYS[1], ARGV[i])
            moved = moved + 1
          end
        end
        return moved
        """;

    private const string RenewScript = """
        local mine = {}
        for i = 3, #ARGV do
          local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
          if #pending > 0 and pending[1][2] == ARGV[2] then mine[#mine + 1] = ARGV[i] end
        end
        local count = #mine
        if count > 0 then
          mine[count + 1] = 'JUSTID'
          redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, unpack(mine))
        end
        return count
        """;

    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _redis;
    private readonly RedisKey _stream;
    private readonly RedisKey _delayed;
    private readonly RedisKey _dead;
    private readonly TimeSpan _leaseTimeout;
    private readonly TimeProvider _time;
    private readonly StaleEntries _stale;
    private readonly ILogger _logger;
    private readonly HeldLeases<string> _held = new();
    private readonly AsyncSignal _stored = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _renewer;
    private volatile bool _groupReady;
    private int _disposed;

    private RedisOutboxStore(ConnectionMultiplexer connection, string keyPrefix, TimeSpan leaseTimeout, TimeProvider time, StaleEntries stale, ILogger logger)
    {
        _connection = connection;
        _redis = connection.GetDatabase();
        _stream = $"{{{keyPrefix}}}:stream";
        _delayed = $"{{{keyPrefix}}}:delayed";
        _dead = $"{{{keyPrefix}}}:dead";
        _leaseTimeout = leaseTimeout;
        _time = time;
        _stale = stale;
        _logger = logger;
        _renewer = Task.Run(() => _held.RenewUntilClosedAsync(_leaseTimeout, _time, RenewClaimsAsync, _logger, _closing.Token));
        Log.RedisOutboxJoined(logger, _stream.ToString(), Consumer, leaseTimeout);
    }

    /// <summary>This process's consumer name in the group: unique per process.</summary>
    internal string Consumer { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    public bool IsDurable => true;

    /// <summary>
    /// Connects. An unreachable Redis does not stop the application: the connection keeps being retried, and events
    /// enqueued meanwhile are logged as lost.
    /// </summary>
    public static RedisOutboxStore Connect(string connectionString, string keyPrefix, TimeSpan leaseTimeout, TimeProvider time, StaleEntries stale, ILogger logger)
    {
        return new RedisOutboxStore(ConnectionMultiplexer.Connect(ConnectionOptions(connectionString, "capi-outbox")), keyPrefix, leaseTimeout, time, stale, logger);
    }

    /// <summary>How every connection to the outbox's Redis is configured (the identity store's too): it keeps trying when Redis is down at start.</summary>
    internal static ConfigurationOptions ConnectionOptions(string connectionString, string clientName)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.ClientName ??= clientName;
        return options;
    }

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        return (long)await _redis.ScriptEvaluateAsync(CountScript, [_stream, _delayed]).ConfigureAwait(false);
    }

    public async ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        await _redis.StreamAddAsync(_stream, EntryField, OutboxEntryCodec.Encode(entry)).ConfigureAwait(false);
        _stored.Pulse(1);
        return true;
    }

    public async ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        try
        {
            while (true)
            {
                var stored = _stored.Next;
                if (await AnyLeasableAsync().ConfigureAwait(false))
                {
                    return true;
                }

                await AsyncSignal.WaitAsync(stored, PollInterval, _time, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken)
    {
        var batch = await Lingering.FillAsync(maxCount, linger, TakeAsync, _stored, PollInterval, _time, cancellationToken).ConfigureAwait(false);
        await _stale.DropAsync(batch, DeadLetterAsync).ConfigureAwait(false);
        return batch;
    }

    public async ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        var held = _held.Release(entries);
        if (held.Count == 0)
        {
            return;
        }

        var args = new RedisValue[held.Count + 1];
        args[0] = Group;
        for (var i = 0; i < held.Count; i++)
        {
            args[i + 1] = held[i].Key;
        }

        await _redis.ScriptEvaluateAsync(AcknowledgeScript, [_stream], args).ConfigureAwait(false);
    }

    public async ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken)
    {
        var held = _held.Release(entries);
        if (held.Count == 0)
        {
            return;
        }

        var due = (_time.GetUtcNow() + (delay > TimeSpan.Zero ? delay : TimeSpan.Zero)).ToUnixTimeMilliseconds();
        var args = new List<RedisValue>(3 + (held.Count * 2)) { Group, Consumer, due };
        foreach (var (entry, id) in held)
        {
            args.Add(id);
            args.Add(OutboxEntryCodec.Encode(entry));
        }

        await _redis.ScriptEvaluateAsync(RetryScript, [_stream, _delayed], [.. args]).ConfigureAwait(false);
    }

    public async ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken)
    {
        var held = _held.Release(entries);
        if (held.Count == 0)
        {
            return;
        }

        var args = new List<RedisValue>(5 + (held.Count * 4))
        {
            Group, Consumer, reason, _time.GetUtcNow().ToUnixTimeMilliseconds(), DeadLetterHistory,
        };
        foreach (var (entry, id) in held)
        {
            args.Add(id);
            args.Add(entry.PixelId);
            args.Add(entry.EventName);
            args.Add(entry.EventId);
        }

        await _redis.ScriptEvaluateAsync(DeadLetterScript, [_stream, _dead], [.. args]).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken)
    {
        var newestFirst = await _redis.StreamRangeAsync(_dead, count: maxCount, messageOrder: Order.Descending).ConfigureAwait(false);
        var letters = new List<DeadLetter>(newestFirst.Length);
        for (var i = newestFirst.Length - 1; i >= 0; i--)
        {
            var letter = newestFirst[i];
            letters.Add(new DeadLetter(
                letter["pixel"].ToString(),
                letter["name"].ToString(),
                letter["id"].ToString(),
                letter["reason"].ToString(),
                DateTimeOffset.FromUnixTimeMilliseconds((long)letter["at"])));
        }

        return letters;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        await _renewer.ConfigureAwait(false);
        try
        {
            // What this node still holds goes back at once for the other nodes, instead of after the lease time-out;
            // a consumer with nothing pending leaves the group.
            await RetryLaterAsync(_held.Entries(), TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
            var consumers = await _redis.StreamConsumerInfoAsync(_stream, Group).ConfigureAwait(false);
            if (consumers.Any(c => c.Name == Consumer && c.PendingMessageCount == 0))
            {
                await _redis.StreamDeleteConsumerAsync(_stream, Group, Consumer).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            // Redis is gone (the client may say so with a cancellation of its own): what this node held is claimed by
            // another once the lease time-out has passed.
        }

        await _connection.CloseAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Takes up to <paramref name="count"/> entries: due retries first go back into the stream.</summary>
    private async Task<List<OutboxEntry>> TakeAsync(int count)
    {
        await EnsureGroupAsync().ConfigureAwait(false);
        try
        {
            return await TakeFromGroupAsync(count).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            // Redis lost the group, e.g. restarted without persistence: create it again.
            Log.ConsumerGroupRecreated(_logger, _stream.ToString());
            _groupReady = false;
            await EnsureGroupAsync().ConfigureAwait(false);
            return await TakeFromGroupAsync(count).ConfigureAwait(false);
        }
    }

    private async Task<List<OutboxEntry>> TakeFromGroupAsync(int count)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await _redis.ScriptEvaluateAsync(PromoteScript, [_delayed, _stream], [now, count]).ConfigureAwait(false);

        var taken = new List<OutboxEntry>(Math.Min(count, 256));
        var claimed = await _redis.StreamAutoClaimAsync(_stream, Group, Consumer, (long)_leaseTimeout.TotalMilliseconds, "0-0", count).ConfigureAwait(false);
        Hold(claimed.ClaimedEntries, taken);
        if (taken.Count > 0)
        {
            Log.EntriesClaimed(_logger, taken.Count);
        }

        if (taken.Count < count)
        {
            var delivered = await _redis.StreamReadGroupAsync(_stream, Group, Consumer, StreamPosition.NewMessages, count - taken.Count).ConfigureAwait(false);
            Hold(delivered, taken);
        }

        return taken;
    }

    private void Hold(StreamEntry[] entries, List<OutboxEntry> taken)
    {
        List<RedisValue>? unreadable = null;
        foreach (var streamEntry in entries)
        {
            if (streamEntry.IsNull)
            {
                continue;
            }

            var value = streamEntry[EntryField];
            var entry = value.IsNull ? null : OutboxEntryCodec.Decode((byte[])value!);
            if (entry is null)
            {
                (unreadable ??= []).Add(streamEntry.Id);
                continue;
            }

            if (_held.TryAdd(entry, streamEntry.Id.ToString()))
            {
                taken.Add(entry);
            }
        }

        if (unreadable is not null)
        {
            Log.UnreadableEntries(_logger, unreadable.Count, _stream.ToString());
            _ = _redis.ScriptEvaluateAsync(AcknowledgeScript, [_stream], [Group, .. unreadable], CommandFlags.FireAndForget);
        }
    }

    private async Task<bool> AnyLeasableAsync()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var result = await _redis.ScriptEvaluateAsync(
            AnyLeasableScript, [_stream, _delayed], [Group, now, (long)_leaseTimeout.TotalMilliseconds]).ConfigureAwait(false);
        return (long)result == 1;
    }

    private async Task EnsureGroupAsync()
    {
        if (_groupReady)
        {
            return;
        }

        try
        {
            // From the start of the stream: entries added before the first node came up are sent too.
            await _redis.StreamCreateConsumerGroupAsync(_stream, Group, "0-0", createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another node created it.
        }

        _groupReady = true;
    }

    /// <summary>Keeps this node's claims fresh while it is alive and sending, so no other node takes them over.</summary>
    private Task RenewClaimsAsync(string[] ids)
    {
        var args = new RedisValue[ids.Length + 2];
        args[0] = Group;
        args[1] = Consumer;
        for (var i = 0; i < ids.Length; i++)
        {
            args[i + 2] = ids[i];
        }

        return _redis.ScriptEvaluateAsync(RenewScript, [_stream], args);
    }
}
