using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace CapiMiddleware.Outbox.Testing;

/// <summary>
/// What the stores that several processes share (SQLite on one file, Redis for a web farm) promise beyond
/// <see cref="OutboxStoreContract"/>: each <see cref="OutboxStoreContract.Open"/> of one test is another process, a
/// store of its own on the same data, which must never lease what a live process holds.
/// </summary>
public abstract class SharedOutboxStoreContract : OutboxStoreContract
{
    /// <summary>A live process keeps its leases for as long as it sends: its renewals keep them from other processes.</summary>
    /// <returns>The test.</returns>
    [SkippableFact]
    public async Task A_live_process_keeps_its_leases_however_long_it_takes_to_send()
    {
        // The slow process renews on a clock the test moves a quarter of the lease time-out at a time, so its renewals
        // come when the test says, not when a loaded machine gets round to them; the other process judges the lease on
        // the real clock (a shared store may judge by its own: Redis's idle time is real time).
        var slowClock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var slow = Open(slowClock);
        var other = Open();
        await slow.EnqueueAsync(Entry("a"), default);
        var leased = await slow.LeaseAsync(10, TimeSpan.Zero, default);

        // Three lease time-outs of real time: only the renewals keep the entry from the other process, which looks for
        // it at every step. The pause only paces the steps (real time must pass for a store that judges by the real
        // clock); no assertion depends on its length.
        var real = System.Diagnostics.Stopwatch.StartNew();
        while (real.Elapsed < LeaseTimeout * 3)
        {
            slowClock.Advance(LeaseTimeout / 4);
            Assert.Empty(await other.LeaseAsync(10, TimeSpan.Zero, default));
            await Task.Delay(LeaseTimeout / 20);
        }

        await slow.AcknowledgeAsync(leased, default);
        Assert.Equal(0, await other.CountAsync(default));
    }

    /// <summary>Processes share the entries and never lease the same one.</summary>
    /// <returns>The test.</returns>
    [SkippableFact]
    public async Task Processes_share_the_work_and_never_lease_the_same_entry()
    {
        var one = Open();
        var two = Open();
        for (var i = 0; i < 10; i++)
        {
            await (i % 2 == 0 ? one : two).EnqueueAsync(Entry($"e{i}"), default);
        }

        var first = await one.LeaseAsync(6, TimeSpan.Zero, default);
        var second = await two.LeaseAsync(10, TimeSpan.Zero, default);

        Assert.Equal(6, first.Count);
        Assert.Equal(4, second.Count);
        Assert.Empty(first.Select(e => e.EventId).Intersect(second.Select(e => e.EventId)));
    }
}
