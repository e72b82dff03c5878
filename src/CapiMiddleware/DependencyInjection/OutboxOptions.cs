namespace CapiMiddleware;

/// <summary>
/// Where events wait between "accepted" and "Meta answered 200": section <c>MetaConversions:Outbox</c>. The store is
/// chosen once, at start-up; changing <see cref="Provider"/> takes a restart.
/// </summary>
public sealed class OutboxOptions
{
    /// <summary>
    /// The store, one of:
    /// <list type="bullet">
    /// <item><c>memory</c>: bounded by <see cref="MetaConversionsOptions.QueueCapacity"/>, fast, lost on a crash;</item>
    /// <item><c>sqlite</c>: a file on local disk (<see cref="Path"/>); an event whose request completed survives a crash;</item>
    /// <item><c>redis</c>: Redis Streams (<see cref="Redis"/>) shared by the nodes of a web farm.</item>
    /// </list>
    /// Any case. The default value is <c>memory</c>.
    /// </summary>
    public string Provider { get; set; } = MetaConversionsDefaults.OutboxProvider;

    /// <summary>
    /// The SQLite file, such as <c>/var/lib/shop/capi-outbox.db</c>; required for <c>sqlite</c>. A relative path is
    /// relative to the working directory. The folder is created when missing. The default value is <see langword="null"/>.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// The StackExchange.Redis connection string, such as <c>redis1:6379,redis2:6379,password=...</c>; required for
    /// <c>redis</c>. The default value is <see langword="null"/>.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// The prefix of the Redis keys, so several applications can share one Redis; every node of one application must
    /// use the same. The default value is <c>capi:outbox</c>.
    /// </summary>
    public string RedisKeyPrefix { get; set; } = MetaConversionsDefaults.OutboxRedisKeyPrefix;

    /// <summary>
    /// How long entries leased by a process that has vanished (crashed, killed, its machine gone) stay reserved for
    /// it before another node, or this application after a restart, sends them. A live process renews its leases, so
    /// a slow send is never taken over. Used by <c>sqlite</c> and <c>redis</c>, from 1 second to 1 hour. The default
    /// value is 1 minute.
    /// </summary>
    public TimeSpan LeaseTimeout { get; set; } = MetaConversionsDefaults.OutboxLeaseTimeout;

    /// <summary>
    /// How long a request waits at most for <c>sqlite</c> or <c>redis</c> to take an event, from 1 millisecond to 10
    /// seconds. An event the store has not taken by then, or that it refuses (Redis unreachable, a full or read-only
    /// disk), waits in memory instead (bounded by <see cref="MetaConversionsOptions.QueueCapacity"/>) and is moved to the
    /// store once it takes events again (or in <see cref="FallbackPath"/> when set); a write still under way when the budget runs out goes to memory only if it then
    /// fails, so the event is stored once. After several failures in a row, requests skip the store for a few seconds,
    /// then one tries it again. Read at start-up. The default value is 50 milliseconds.
    /// </summary>
    public TimeSpan EnqueueBudget { get; set; } = MetaConversionsDefaults.OutboxEnqueueBudget;

    /// <summary>
    /// An SQLite file, such as <c>/var/lib/shop/capi-fallback.db</c>, that keeps the events <c>sqlite</c> or <c>redis</c>
    /// did not take (see <see cref="EnqueueBudget"/>) instead of memory, so they survive a crash or restart of the
    /// process while the store is down; the next start moves them to the store. Each process needs a file of its own, on
    /// local disk, not <see cref="Path"/>. The default value is <see langword="null"/>: memory, bounded by
    /// <see cref="MetaConversionsOptions.QueueCapacity"/>, lost with the process.
    /// </summary>
    public string? FallbackPath { get; set; }

    /// <summary>How many failed or late writes in a row make requests skip the store. The default value is 3.</summary>
    internal int StoreFailureThreshold { get; set; } = 3;

    /// <summary>How long requests skip a failing store before one tries it again. The default value is 10 seconds.</summary>
    internal TimeSpan StoreBreakDuration { get; set; } = TimeSpan.FromSeconds(10);
}
