using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>
/// The staleness rule as the library's own stores apply it when they lease (and <see cref="AgeCheckedOutboxStore"/>
/// around a store of the application's own). Not in the public contract: a store of one's own need not know it.
/// </summary>
internal static class StaleEntriesContract
{
    public static StaleEntries NewStale() => new(TimeProvider.System, TestMeters.NewConversionMetrics(), NullLogger<StaleEntries>.Instance);

    public static async Task Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason(
        IOutboxStore store, StaleEntries stale, Func<string, DateTimeOffset?, string, OutboxEntry> entry)
    {
        var now = DateTimeOffset.UtcNow;
        await store.EnqueueAsync(entry("fresh", now.AddHours(-1), "website"), default);
        await store.EnqueueAsync(entry("within-the-margin", now.AddDays(-7).AddMinutes(30), "website"), default);
        await store.EnqueueAsync(entry("store-sale", now.AddDays(-30), "physical_store"), default);
        await store.EnqueueAsync(entry("old-store-sale", now.AddDays(-62).AddMinutes(30), "physical_store"), default);

        var leased = await store.LeaseAsync(10, TimeSpan.Zero, default);

        Assert.Equal(["fresh", "store-sale"], leased.Select(e => e.EventId));
        Assert.Equal(2, stale.DroppedCount);
        var dead = await store.GetRecentDeadLettersAsync(10, default);
        Assert.Equal(["old-store-sale", "within-the-margin"], dead.Select(d => d.EventId).Order());
        Assert.All(dead, d => Assert.Equal(StaleEntries.Reason, d.Reason));
        Assert.Equal(2, await store.CountAsync(default));
    }
}
