using System.Diagnostics.Metrics;
using CapiMiddleware.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>The library's metrics for tests that build a part (a store, <see cref="QueueDepth"/>) without the whole app.</summary>
internal static class TestMeters
{
    /// <summary>A meter factory of its own, so listeners of one test do not see another's measurements.</summary>
    public static IMeterFactory NewFactory() => new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    public static ConversionMetrics NewConversionMetrics(IMeterFactory? factory = null) => new(factory ?? NewFactory());
}
