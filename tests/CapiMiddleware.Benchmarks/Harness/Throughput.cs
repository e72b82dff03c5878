using System.Diagnostics;
using CapiMiddleware.Events;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// Events from enqueue to acknowledged: producers (one per core) put realistic purchases into the real
/// <c>IConversionQueue</c> (validate, normalize, hash, serialize, store), the real sender posts them in batches of
/// 1,000 to <see cref="LoopbackGraph"/> over HTTP, and the clock stops when Graph has acknowledged every event and
/// the store is empty. Everything, the fake Graph included, shares the machine's cores.
/// </summary>
internal static class Throughput
{
    public static async Task<bool> RunAsync(bool smoke)
    {
        var count = smoke ? 4_000 : 300_000;
        Console.WriteLine($"## Throughput: {count:N0} purchases, enqueue to acknowledged by a loopback Graph, batches of 1,000");
        var now = DateTimeOffset.UtcNow;
        var purchases = Array.ConvertAll(RealisticEvents.RawAll(), raw => RealisticEvents.ToConversion(raw, now));

        var rows = new List<(string Name, int Producers, Result Result)>();
        var memory = await MeasureAsync(purchases, count, Environment.ProcessorCount, _ => { });
        rows.Add(("memory outbox", Environment.ProcessorCount, memory));
        var sqlitePath = Path.Combine(Path.GetTempPath(), $"capi-throughput-{Guid.NewGuid():N}.db");
        try
        {
            var sqliteCount = smoke ? 2_000 : 100_000;
            var sqlite = await MeasureAsync(purchases, sqliteCount, 64, o =>
            {
                o.Outbox.Provider = "sqlite";
                o.Outbox.Path = sqlitePath;
            });
            rows.Add(("sqlite outbox", 64, sqlite));
        }
        finally
        {
            foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(sqlitePath) + "*"))
            {
                File.Delete(file);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| Outbox | Producers | Events | Enqueued in (s) | Acknowledged in (s) | Events/s, enqueue to ack |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, producers, r) in rows)
        {
            Console.WriteLine($"| {name} | {producers} | {r.Events:N0} | {r.EnqueueSeconds:0.00} | {r.TotalSeconds:0.00} | **{r.Events / r.TotalSeconds:N0}** |");
        }

        Console.WriteLine();
        var rate = memory.Events / memory.TotalSeconds;
        Console.WriteLine($"RESULT throughput memory={rate:N0} events/s target>=100,000 {(rate >= 100_000 ? "met" : "NOT met")}");
        Console.WriteLine();
        return true;
    }

    private static async Task<Result> MeasureAsync(ConversionEvent[] purchases, int count, int producers, Action<MetaConversionsOptions> configure)
    {
        await using var graph = await LoopbackGraph.StartAsync();
        await using var pipeline = await PipelineHost.StartAsync(graph.BaseUrl, o =>
        {
            o.BatchSize = 1000;
            o.FlushInterval = TimeSpan.FromMilliseconds(20);
            o.QueueCapacity = count * 2;
            configure(o);
        });

        // Warm up (JIT, the connection to Graph): one batch, not counted.
        await ProduceAsync(pipeline, purchases, 1_000, 1);
        while (graph.EventsReceived < 1_000)
        {
            await Task.Delay(10);
        }

        var received = graph.EventsReceived;
        var start = Stopwatch.GetTimestamp();
        await ProduceAsync(pipeline, purchases, count, producers);
        var enqueued = Stopwatch.GetTimestamp();
        while (graph.EventsReceived - received < count || await pipeline.Store.CountAsync(CancellationToken.None) > 0)
        {
            await Task.Delay(2);
        }

        var end = Stopwatch.GetTimestamp();
        return new Result(count, HarnessCommand.Milliseconds(start, enqueued) / 1000, HarnessCommand.Milliseconds(start, end) / 1000);
    }

    private static async Task ProduceAsync(PipelineHost pipeline, ConversionEvent[] purchases, int count, int producers)
    {
        var queue = pipeline.Queue;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, producers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                if (!await queue.EnqueueAsync(purchases[i % purchases.Length]))
                {
                    throw new InvalidOperationException("A realistic purchase was not queued.");
                }
            }
        })));
    }

    private sealed record Result(int Events, double EnqueueSeconds, double TotalSeconds);
}
