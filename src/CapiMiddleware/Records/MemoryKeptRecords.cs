namespace CapiMiddleware.Records;

/// <summary>
/// Records in this process's memory, lost with it: for one node with the <c>memory</c> outbox. At most a capacity of
/// them: when full, the one kept longest goes to make room (counted). Expired ones are swept as new ones are saved, so
/// memory stays bounded by the capacity whatever the traffic. They are kept as objects, never encoded.
/// </summary>
/// <remarks>
/// One lock around a dictionary and a list in the order the records were saved (a replacement moves to the end).
/// The sweep walks that list from its oldest end while it finds expired entries: with one lifetime for all, saved
/// order is expiry order, so it finds every expired entry; an entry given a longer life does not hold the sweep back
/// for long, since it is the oldest and goes first when the store is full.
/// </remarks>
/// <typeparam name="T">The record.</typeparam>
internal sealed class MemoryKeptRecords<T> : IKeptRecords<T>
    where T : class, IKeptRecord
{
    // Bounded work per save: a burst of expiries is cleared over the next saves, never in one long pause.
    private const int SweepPerSave = 64;

    private readonly Dictionary<string, LinkedListNode<Kept>> _byKey = new(StringComparer.Ordinal);
    private readonly LinkedList<Kept> _bySaveOrder = new();
    private readonly Lock _gate = new();
    private readonly int _capacity;
    private readonly Action<int>? _evicted;
    private long _evictedTotal;

    /// <param name="capacity">The most records kept at once, at least 1.</param>
    /// <param name="evicted">Told how many unexpired records were dropped to make room (outside the lock).</param>
    public MemoryKeptRecords(int capacity, Action<int>? evicted = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _evicted = evicted;
    }

    /// <summary>How many unexpired records were dropped to make room since the store was created.</summary>
    public long Evicted => Interlocked.Read(ref _evictedTotal);

    public ValueTask SaveAsync(string key, T record, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(record);
        var evicted = 0;
        lock (_gate)
        {
            if (_byKey.Remove(key, out var replaced))
            {
                _bySaveOrder.Remove(replaced);
            }

            // The caller's clock: the record was kept now, whatever this machine's clock says.
            Sweep(record.KeptAt);
            while (_byKey.Count >= _capacity && _bySaveOrder.First is { } oldest)
            {
                Remove(oldest);
                evicted++;
            }

            _byKey[key] = _bySaveOrder.AddLast(new Kept(key, record, expiresAt));
        }

        if (evicted > 0)
        {
            Interlocked.Add(ref _evictedTotal, evicted);
            _evicted?.Invoke(evicted);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<T?> TakeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            if (!_byKey.Remove(key, out var node))
            {
                return ValueTask.FromResult<T?>(null);
            }

            _bySaveOrder.Remove(node);
            return ValueTask.FromResult(node.Value.ExpiresAt > now ? node.Value.Record : null);
        }
    }

    public ValueTask<T?> FindAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            return ValueTask.FromResult(_byKey.TryGetValue(key, out var node) && node.Value.ExpiresAt > now ? node.Value.Record : null);
        }
    }

    public ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult((long)_byKey.Count);
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        for (var i = 0; i < SweepPerSave && _bySaveOrder.First is { } oldest && oldest.Value.ExpiresAt <= now; i++)
        {
            Remove(oldest);
        }
    }

    private void Remove(LinkedListNode<Kept> node)
    {
        _bySaveOrder.Remove(node);
        _byKey.Remove(node.Value.Key);
    }

    private sealed record Kept(string Key, T Record, DateTimeOffset ExpiresAt);
}
