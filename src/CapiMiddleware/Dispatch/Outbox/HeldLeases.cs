using CapiMiddleware.Diagnostics;
using CapiMiddleware.Hosting;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// The entries this process has leased and not yet settled, each with the store's key for it: what a durable store
/// renews while the process lives, and how it finds the row or stream entry again when the sender settles it.
/// </summary>
internal sealed class HeldLeases<TKey>
    where TKey : notnull
{
    private readonly Dictionary<OutboxEntry, TKey> _keys = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<TKey> _held = [];

    /// <summary>
    /// Holds <paramref name="entry"/>; <see langword="false"/> when this process already holds that key (its own lease
    /// ran out and it leased the same row again), so the entry is not handed to the sender twice.
    /// </summary>
    public bool TryAdd(OutboxEntry entry, TKey key)
    {
        lock (_keys)
        {
            if (!_held.Add(key))
            {
                return false;
            }

            _keys[entry] = key;
            return true;
        }
    }

    /// <summary>Stops holding <paramref name="entries"/> and returns their keys; entries not held (settled twice) are skipped.</summary>
    public List<(OutboxEntry Entry, TKey Key)> Release(IReadOnlyList<OutboxEntry> entries)
    {
        var released = new List<(OutboxEntry, TKey)>(entries.Count);
        lock (_keys)
        {
            foreach (var entry in entries)
            {
                if (_keys.Remove(entry, out var key))
                {
                    _held.Remove(key);
                    released.Add((entry, key));
                }
            }
        }

        return released;
    }

    public OutboxEntry[] Entries()
    {
        lock (_keys)
        {
            return [.. _keys.Keys];
        }
    }

    public TKey[] Keys()
    {
        lock (_keys)
        {
            return [.. _held];
        }
    }

    /// <summary>
    /// Renews the held leases every quarter of <paramref name="leaseTimeout"/> until <paramref name="closing"/> is
    /// cancelled, so a live process keeps what it is sending. A failed renewal is logged and tried at the next tick.
    /// </summary>
    public async Task RenewUntilClosedAsync(
        TimeSpan leaseTimeout, TimeProvider time, Func<TKey[], Task> renew, ILogger logger, CancellationToken closing)
    {
        using var timer = new PeriodicTimer(leaseTimeout / 4, time);
        try
        {
            while (await timer.WaitForNextTickAsync(closing).ConfigureAwait(false))
            {
                var keys = Keys();
                if (keys.Length == 0)
                {
                    continue;
                }

                try
                {
                    await renew(keys).ConfigureAwait(false);
                }
                catch (Exception ex) when (!ex.IsCancellationBy(closing))
                {
                    Log.LeaseRenewalFailed(logger, ex, keys.Length);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closing.
        }
    }
}
