using System.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.FakeGraph;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// Events from enqueue to acknowledged: producers (one per core, each a thread) put realistic purchases into the real
/// <c>IConversionQueue</c> (validate, normalize, hash, serialize, store), the real sender posts them in batches of
/// 1,000 to a count-only <see cref="FakeGraphApiServer"/> over HTTP, and the clock stops when Graph has acknowledged every event and the
/// store is empty, in the last of several passes (the ones before warm up). Everything, the fake Graph included, shares
/// the machine's cores. Another run queues everything before the sender starts, to time the sending half alone.
/// <c>HARNESS_PRODUCERS=N</c> changes the number of producers.
/// </summary>
internal static class Throughput
{
    private const int MaxPasses = 8;

    private static readonly int Producers = int.TryParse(Environment.GetEnvironmentVariable("HARNESS_PRODUCERS"), out var p) ? p : Environment.ProcessorCount;

    public static async Task<bool> RunAsync(bool smoke)
    {
        var count = smoke ? 4_000 : 300_000;
        Console.WriteLine($"## Throughput: {count:N0} purchases, enqueue to acknowledged by a loopback Graph, batches of 1,000");
        var now = DateTimeOffset.UtcNow;
        var purchases = Array.ConvertAll(RealisticEvents.RawAll(), raw => RealisticEvents.ToConversion(raw, now));

        var rows = new List<(string Name, int Producers, Result Result)>();
        var memoryPasses = await MeasureAsync(purchases, count, Producers, _ => { }, smoke);
        var memory = memoryPasses.Last;
        rows.Add(("memory outbox, first pass (the JIT tiering up)", Producers, memoryPasses.First));
        rows.Add(($"memory outbox, {memoryPasses.LastName}", Producers, memory));
        var senderAlone = await MeasureSenderAloneAsync(purchases, count);
        rows.Add(("memory outbox, sender alone (all queued first)", 0, senderAlone));
        var sqlitePath = Path.Combine(Path.GetTempPath(), $"capi-throughput-{Guid.NewGuid():N}.db");
        try
        {
            var sqliteCount = smoke ? 2_000 : 100_000;
            var sqlite = await MeasureAsync(purchases, sqliteCount, 64, o =>
            {
                o.Outbox.Provider = "sqlite";
                o.Outbox.Path = sqlitePath;
            }, smoke);
            rows.Add(($"sqlite outbox, {sqlite.LastName}", 64, sqlite.Last));
        }
        finally
        {
            foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(sqlitePath) + "*"))
            {
                File.Delete(file);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| Outbox | Producers | Events | Enqueued in (s) | Acknowledged in (s) | Events/s, enqueue to ack | CPU (s, whole process) | Events per CPU-second | Gen 2 GCs, pauses (s) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, producers, r) in rows)
        {
            Console.WriteLine($"| {name} | {producers} | {r.Events:N0} | {r.EnqueueSeconds:0.00} | {r.TotalSeconds:0.00} | **{r.Rate:N0}** | {r.CpuSeconds:0.00} | {r.Events / r.CpuSeconds:N0} | {r.FullCollections}, {r.GcPauseSeconds:0.00} |");
        }

        Console.WriteLine();
        var rate = memory.Rate;
        // The process's CPU time counts the producers, the sender, the HTTP client and the fake Graph alike: with the
        // machine to itself, two cores give at most twice the events per CPU-second.
        var perCpuSecond = memory.Events / memory.CpuSeconds;
        Console.WriteLine($"{HarnessCommand.ResultPrefix} throughput memory={rate:N0} events/s (wall) target>=100,000 {(rate >= 100_000 ? "met" : "NOT met")}; " +
            $"{perCpuSecond:N0} events per CPU-second, so at most {perCpuSecond * Environment.ProcessorCount:N0} events/s on {Environment.ProcessorCount} idle cores");
        Console.WriteLine();
        return true;
    }

    /// <summary>
    /// Passes of <paramref name="count"/> events through one host until the rate settles (within 5% of the pass before;
    /// at least two, at most <see cref="MaxPasses"/>): the last is the one that counts, the first is reported beside it.
    /// The passes before warm up what a server that has run for a while has warm: the connection to Graph, and the JIT,
    /// whose tiered compilation with dynamic PGO recompiles the hot methods in the background (instrumented first,
    /// optimized later); with every core busy, the final code arrives only several hundred thousand events in.
    /// </summary>
    private static async Task<Passes> MeasureAsync(ConversionEvent[] purchases, int count, int producers, Action<MetaConversionsOptions> configure, bool smoke)
    {
        await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true });
        await using var pipeline = await PipelineHost.StartAsync(graph.BaseUrl.ToString(), o =>
        {
            o.BatchSize = 1000;
            o.FlushInterval = TimeSpan.FromMilliseconds(20);
            o.QueueCapacity = count * 2;
            configure(o);
        });

        var passes = new List<Result>();
        do
        {
            passes.Add(await PassAsync(pipeline, graph, purchases, count, producers));
        }
        while (passes.Count < 2 || (!smoke && passes.Count < MaxPasses && !Settled(passes[^2], passes[^1])));

        return new Passes(passes[0], passes[^1], passes.Count, Settled(passes[^2], passes[^1]));
    }

    private static bool Settled(Result before, Result last) => Math.Abs(last.Rate - before.Rate) <= 0.05 * before.Rate;

    private static async Task<Result> PassAsync(PipelineHost pipeline, FakeGraphApiServer graph, ConversionEvent[] purchases, int count, int producers)
    {
        var received = graph.EventsReceived;
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var gen2 = GC.CollectionCount(2);
        var pause = GC.GetTotalPauseDuration();
        var start = Stopwatch.GetTimestamp();
        await ProduceAsync(pipeline, purchases, count, producers);
        var enqueued = Stopwatch.GetTimestamp();
        while (graph.EventsReceived - received < count || await pipeline.Store.CountAsync(CancellationToken.None) > 0)
        {
            await Task.Delay(2);
        }

        var end = Stopwatch.GetTimestamp();
        process.Refresh();
        var cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        return new Result(count, HarnessCommand.Milliseconds(start, enqueued) / 1000, HarnessCommand.Milliseconds(start, end) / 1000, cpuSeconds,
            GC.CollectionCount(2) - gen2, (GC.GetTotalPauseDuration() - pause).TotalSeconds);
    }

    /// <summary>The sending half alone: everything is queued before the sender starts, then timed until acknowledged.</summary>
    private static async Task<Result> MeasureSenderAloneAsync(ConversionEvent[] purchases, int count)
    {
        await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true });
        await using var pipeline = PipelineHost.Create(graph.BaseUrl.ToString(), o =>
        {
            o.BatchSize = 1000;
            o.FlushInterval = TimeSpan.FromMilliseconds(20);
            o.QueueCapacity = count * 2;
        });
        await ProduceAsync(pipeline, purchases, count, Producers);
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var gen2 = GC.CollectionCount(2);
        var pause = GC.GetTotalPauseDuration();
        var start = Stopwatch.GetTimestamp();
        await pipeline.StartSendingAsync();
        while (graph.EventsReceived < count || await pipeline.Store.CountAsync(CancellationToken.None) > 0)
        {
            await Task.Delay(2);
        }

        var end = Stopwatch.GetTimestamp();
        process.Refresh();
        return new Result(count, 0, HarnessCommand.Milliseconds(start, end) / 1000, (process.TotalProcessorTime - cpu).TotalSeconds,
            GC.CollectionCount(2) - gen2, (GC.GetTotalPauseDuration() - pause).TotalSeconds);
    }

    /// <summary>
    /// Each producer is a thread of its own: a loop that enqueues without ever awaiting would hold a thread-pool worker
    /// for the whole run (a request's thread returns to the pool after every request), and the sender, the HTTP client
    /// and the fake Graph, which need the pool, would wait for it to inject more.
    /// </summary>
    private static async Task ProduceAsync(PipelineHost pipeline, ConversionEvent[] purchases, int count, int producers)
    {
        var queue = pipeline.Queue;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, producers).Select(_ => Task.Factory.StartNew(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                if (!await queue.EnqueueAsync(purchases[i % purchases.Length]))
                {
                    throw new InvalidOperationException("A realistic purchase was not queued.");
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()));
    }

    private sealed record Result(int Events, double EnqueueSeconds, double TotalSeconds, double CpuSeconds, int FullCollections, double GcPauseSeconds)
    {
        public double Rate => Events / TotalSeconds;
    }

    private sealed record Passes(Result First, Result Last, int Count, bool HasSettled)
    {
        public string LastName => $"pass {Count} ({(HasSettled ? "settled" : "not settled")})";
    }
}
