using System.Text;
using BenchmarkDotNet.Running;
using CapiMiddleware.Benchmarks.Harness;
using CapiMiddleware.Events;

namespace CapiMiddleware.Benchmarks;

/// <summary>
/// BenchmarkDotNet's switcher, the load harnesses (<c>harness</c>, <c>load</c>, <c>latency</c>, <c>throughput</c>,
/// <c>memory</c>; see <see cref="HarnessCommand"/>) and <c>--sample N</c>.
/// </summary>
internal static class Program
{
    // Every benchmark once, in seconds (CI): dotnet run -c Release --project tests/CapiMiddleware.Benchmarks -- --job dry --inProcess --filter '*'
    // The figures in docs/performance.md: the same without --job dry and --inProcess.
    // Every load harness, printing the tables of docs/performance.md: ... -- harness (add --smoke for a few seconds' run).
    public static async Task<int> Main(string[] args)
    {
        if (args is ["--sample", var index])
        {
            // The wire event of one realistic purchase, to set beside node/meta-sdk-bench.mjs --sample N.
            var now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);
            var graphEvent = GraphEventWriter.TryCreate(RealisticEvents.ToConversion(RealisticEvents.Raw(int.Parse(index)), now), $"order-{index}", now, out var problem);
            Console.WriteLine(graphEvent is null ? problem : Encoding.UTF8.GetString(GraphEventWriter.Serialize(graphEvent)));
            return 0;
        }

        if (args.Length > 0 && HarnessCommand.IsHarness(args[0]))
        {
            return await HarnessCommand.RunAsync(args);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
