using System.Text;
using BenchmarkDotNet.Running;
using CapiMiddleware.Benchmarks;
using CapiMiddleware.Events;

// Every benchmark once, in seconds (CI): dotnet run -c Release --project tests/CapiMiddleware.Benchmarks -- --job dry --inProcess --filter '*'
// The figures in docs/performance.md: the same without --job dry and --inProcess.
if (args is ["--sample", var index])
{
    // The wire event of one realistic purchase, to set beside node/meta-sdk-bench.mjs --sample N.
    var now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);
    var graphEvent = GraphEventWriter.TryCreate(RealisticEvents.ToConversion(RealisticEvents.Raw(int.Parse(index)), now), $"order-{index}", now, out var problem);
    Console.WriteLine(graphEvent is null ? problem : Encoding.UTF8.GetString(GraphEventWriter.Serialize(graphEvent)));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
