using CapiMiddleware.Records;
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
        var store = services.GetRequiredService<IKeptRecords<CapturedIdentity>>();
        Assert.Same(store, services.GetRequiredService<IKeptRecords<CapturedIdentity>>());

        // Captured as the checkout captures them: counted once each, by consent.
        var identities = services.GetRequiredService<CapturedIdentities>();
        foreach (var key in new[] { "a", "b", "c" })
        {
            await identities.CaptureAsync(new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = services }, key, null, default);
        }

        Assert.Equal(3, captured.GetMeasurementSnapshot().Where(m => (bool?)m.Tags["consent"] == true).Sum(m => m.Value));
        Assert.Equal(1, evicted.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(2, await store.CountAsync(default));
    }
}
