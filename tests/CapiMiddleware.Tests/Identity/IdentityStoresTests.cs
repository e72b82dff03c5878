using System.Diagnostics.Metrics;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CapiMiddleware.Tests.Identity;

/// <summary>The store registered for the outbox's provider, and what it counts.</summary>
public sealed class IdentityStoresTests
{
    [Fact]
    public async Task The_memory_store_counts_what_it_captured_and_what_it_evicted_on_the_library_meter()
    {
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddMetaConversions(options => options.Identities.Capacity = 2)
            .BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var captured = new MetricCollector<long>(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.identities.captured");
        using var evicted = new MetricCollector<long>(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.identities.evicted");
        var store = services.GetRequiredService<IIdentityStore>();
        Assert.Same(store, services.GetRequiredService<IIdentityStore>());

        var now = DateTimeOffset.UtcNow;
        foreach (var key in new[] { "a", "b", "c" })
        {
            await store.SaveAsync(key, new CapturedIdentity(false, null, null, null, null, null, new Dictionary<string, string[]>(), now), now.AddDays(1), default);
        }

        Assert.Equal(3, captured.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, evicted.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(2, await store.CountAsync(default));
    }
}
