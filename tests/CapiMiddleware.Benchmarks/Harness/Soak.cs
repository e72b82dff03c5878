using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CapiMiddleware.Events;
using CapiMiddleware.FakeGraph;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// The soak: purchases enqueued at a steady rate for ten minutes (<c>--minutes</c>, <c>--rate</c>) through the real
/// pipeline of one outbox store to a loopback Graph that is down from 20% to 50% of the run (minutes 2 to 5: two
/// requests in three answered 503, the third left hanging past the attempt time-out). Every few seconds it samples the
/// process (working set, managed heap after a full collection), the store's count and, for the durable stores, what
/// they keep outside the process (the SQLite files, redis-server's resident memory). At the end: events enqueued,
/// delivered, dropped, lost and duplicated, by event ID, and peak and final memory.
/// <c>-- soak</c> runs every store, each in a process of its own and all at once, so that each has its own figures;
/// <c>-- soak --store sqlite</c> runs one. A redis-server on the PATH (Debian's package) is started on a free loopback
/// port for <c>redis</c>; without one that store is skipped, saying so.
/// </summary>
internal static class Soak
{
    private static readonly string[] Stores = ["memory", "sqlite", "redis"];

    public static async Task<bool> RunAsync(string[] args, bool smoke)
    {
        var store = Option(args, "--store");
        if (store is null)
        {
            return await RunEachStoreAsync(args);
        }

        if (!Stores.Contains(store))
        {
            throw new ArgumentOutOfRangeException(nameof(args), store, "--store takes memory, sqlite or redis.");
        }

        var settings = Settings.From(args, smoke);
        Console.WriteLine($"## Soak, `{store}` outbox: {settings.Rate} purchases/s for {Describe(settings.Duration)}, " +
            $"Graph down from {Describe(settings.OutageStart)} to {Describe(settings.OutageEnd)}");
        if (store != "redis")
        {
            return await RunAsync(store, settings, redis: null);
        }

        await using var redis = await RedisProcess.StartAsync();
        if (redis is null)
        {
            Console.WriteLine("No redis-server could be started (install Debian's `redis-server` package): the redis soak is skipped.");
            Console.WriteLine($"{HarnessCommand.ResultPrefix} soak store=redis skipped");
            return true;
        }

        return await RunAsync(store, settings, redis);
    }

    /// <summary>Every store in a child process of its own, all at once; their outputs printed in order as they end.</summary>
    private static async Task<bool> RunEachStoreAsync(string[] args)
    {
        var children = Stores.Select(store =>
        {
            var start = HarnessCommand.OwnProcess([.. args, "--store", store]);
            start.RedirectStandardOutput = true;
            var child = Process.Start(start)!;
            return (Child: child, Output: child.StandardOutput.ReadToEndAsync());
        }).ToList();

        var passed = true;
        foreach (var (child, output) in children)
        {
            Console.Write(await output);
            await child.WaitForExitAsync();
            passed &= child.ExitCode == 0;
            child.Dispose();
        }

        return passed;
    }

    private static async Task<bool> RunAsync(string store, Settings settings, RedisProcess? redis)
    {
        var capacity = (int)(settings.Rate * settings.Duration.TotalSeconds * 1.1) + 1_000;
        var tally = new EventTally(capacity);
        var sqlitePath = Path.Combine(Path.GetTempPath(), $"capi-soak-{Guid.NewGuid():N}.db");
        var now = DateTimeOffset.UtcNow;
        var purchases = Array.ConvertAll(RealisticEvents.RawAll(), raw => RealisticEvents.ToConversion(raw, now));
        var samples = new List<Sample>();
        long produced = 0;
        long accepted = 0;
        long dropped = 0;
        long maxCount = 0;
        try
        {
            await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true, Tally = tally });
            graph.HangTime = settings.HangTime;
            await using var pipeline = await PipelineHost.StartAsync(graph.BaseUrl.ToString(), o =>
            {
                settings.Configure(o);
                switch (store)
                {
                    case "sqlite":
                        o.Outbox.Provider = "sqlite";
                        o.Outbox.Path = sqlitePath;
                        break;
                    case "redis":
                        o.Outbox.Provider = "redis";
                        o.Outbox.Redis = redis!.ConnectionString;
                        o.Outbox.RedisKeyPrefix = $"soak:{Guid.NewGuid():N}";
                        break;
                }
            });

            using var process = Process.GetCurrentProcess();
            var clock = Stopwatch.StartNew();
            var nextSample = TimeSpan.Zero;

            async Task<Sample> TakeAsync(string phase)
            {
                var count = await pipeline.Store.CountAsync(CancellationToken.None);
                maxCount = Math.Max(maxCount, count);
                var heap = GC.GetTotalMemory(forceFullCollection: true);
                process.Refresh();
                var (delivered, duplicates) = tally.Totals(produced);
                return new Sample(clock.Elapsed, phase, produced, accepted, dropped, delivered, duplicates, count, process.WorkingSet64, heap,
                    store == "sqlite" ? FileSize(sqlitePath) : store == "redis" ? redis!.ResidentBytes() : 0);
            }

            // The steady producer: one purchase after another, each with an event ID of its own, at the rate asked.
            while (clock.Elapsed < settings.Duration)
            {
                var elapsed = clock.Elapsed;
                graph.Down = elapsed >= settings.OutageStart && elapsed < settings.OutageEnd;
                var due = (long)(elapsed.TotalSeconds * settings.Rate);
                while (produced < due && produced < capacity)
                {
                    var purchase = purchases[produced % purchases.Length] with { EventId = EventTally.IdOf(produced) };
                    produced++;
                    if (await pipeline.Queue.EnqueueAsync(purchase))
                    {
                        accepted++;
                    }
                    else
                    {
                        dropped++;
                    }
                }

                if (elapsed >= nextSample)
                {
                    samples.Add(await TakeAsync(graph.Down ? "Graph down" : elapsed < settings.OutageStart ? "before" : "after"));
                    nextSample += settings.SampleEvery;
                }

                await Task.Delay(5);
            }

            // Graph is up: wait for everything accepted to be delivered and the store to be empty.
            graph.Down = false;
            var drainDeadline = clock.Elapsed + settings.DrainTimeout;
            while (clock.Elapsed < drainDeadline &&
                (tally.Totals(produced).Distinct < accepted || await pipeline.Store.CountAsync(CancellationToken.None) > 0))
            {
                if (clock.Elapsed >= nextSample)
                {
                    samples.Add(await TakeAsync("draining"));
                    nextSample += settings.SampleEvery;
                }

                await Task.Delay(50);
            }

            samples.Add(await TakeAsync("final"));
            Console.WriteLine($"Loopback Graph: {graph.RequestCount:N0} requests, {graph.FailedRequests:N0} of them failed during the outage.");
        }
        finally
        {
            foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(sqlitePath) + "*"))
            {
                File.Delete(file);
            }
        }

        return Report(store, samples, settings.QueueCapacity, maxCount);
    }

    private static bool Report(string store, List<Sample> samples, int queueCapacity, long maxCount)
    {
        var outside = store switch { "sqlite" => "SQLite files (MB)", "redis" => "redis-server RSS (MB)", _ => "-" };
        Console.WriteLine();
        Console.WriteLine($"| Time | Graph | Enqueued | Dropped | Delivered | In the store | Working set (MB) | Managed heap after full GC (MB) | {outside} |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in samples)
        {
            Console.WriteLine($"| {Describe(s.Elapsed)} | {s.Phase} | {s.Accepted:N0} | {s.Dropped:N0} | {s.Delivered:N0} | {s.InStore:N0} | " +
                $"{Mb(s.WorkingSet)} | {Mb(s.Heap)} | {(store == "memory" ? "-" : Mb(s.Outside))} |");
        }

        var final = samples[^1];
        var before = samples.Where(s => s.Phase == "before").DefaultIfEmpty(samples[0]).ToList();
        var during = samples.Where(s => s.Phase == "Graph down").DefaultIfEmpty(samples[0]).ToList();
        var lost = final.Accepted - final.Delivered;
        Console.WriteLine();
        Console.WriteLine($"| `{store}` | Value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| Purchases offered / enqueued / dropped | {final.Produced:N0} / {final.Accepted:N0} / {final.Dropped:N0} |");
        Console.WriteLine($"| Delivered (distinct event IDs) / lost / duplicates | {final.Delivered:N0} / **{lost:N0}** / {final.Duplicates:N0} |");
        Console.WriteLine($"| Most in the store | {maxCount:N0}{(store == "memory" ? $" (QueueCapacity {queueCapacity:N0})" : string.Empty)} |");
        Console.WriteLine($"| Managed heap after full GC: before the outage (max) / during it (max) / final | {Mb(before.Max(s => s.Heap))} / {Mb(during.Max(s => s.Heap))} / {Mb(final.Heap)} MB |");
        Console.WriteLine($"| Working set: before the outage (max) / peak / final | {Mb(before.Max(s => s.WorkingSet))} / {Mb(samples.Max(s => s.WorkingSet))} / {Mb(final.WorkingSet)} MB |");
        if (store != "memory")
        {
            Console.WriteLine($"| {outside}: peak / final | {Mb(samples.Max(s => s.Outside))} / {Mb(final.Outside)} |");
        }

        Console.WriteLine();
        // Lost: accepted and never delivered. The memory outbox may drop at its capacity (counted) but never lose what
        // it accepted while the process lives; the durable ones accept everything.
        var passed = lost == 0 && final.InStore == 0 && (store == "memory" ? maxCount <= queueCapacity : final.Dropped == 0);
        Console.WriteLine($"{HarnessCommand.ResultPrefix} soak store={store} enqueued={final.Accepted} delivered={final.Delivered} dropped={final.Dropped} " +
            $"lost={lost} duplicates={final.Duplicates} heap_before_mb={Mb(before.Max(s => s.Heap))} heap_outage_peak_mb={Mb(during.Max(s => s.Heap))} " +
            $"working_set_peak_mb={Mb(samples.Max(s => s.WorkingSet))} working_set_final_mb={Mb(final.WorkingSet)} {(passed ? "passed" : "FAILED")}");
        Console.WriteLine();
        return passed;
    }

    private static long FileSize(string path) =>
        (File.Exists(path) ? new FileInfo(path).Length : 0) + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("N1", CultureInfo.InvariantCulture);

    private static string Describe(TimeSpan time) => time.TotalMinutes >= 1 ? $"{(int)time.TotalMinutes}:{time.Seconds:00}" : $"{time.TotalSeconds:0.0} s";

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private sealed record Sample(
        TimeSpan Elapsed, string Phase, long Produced, long Accepted, long Dropped, long Delivered, long Duplicates, long InStore,
        long WorkingSet, long Heap, long Outside);

    /// <summary>The run's shape: the library's defaults for a full run; a smoke run shrinks every delay to fit seconds.</summary>
    private sealed record Settings(TimeSpan Duration, double Rate, TimeSpan SampleEvery, TimeSpan DrainTimeout, TimeSpan HangTime, bool Smoke)
    {
        public TimeSpan OutageStart => Duration * 0.2;

        public TimeSpan OutageEnd => Duration * 0.5;

        public int QueueCapacity => Smoke ? 500 : 10_000;

        public static Settings From(string[] args, bool smoke)
        {
            var minutes = Option(args, "--minutes") is { } m ? double.Parse(m, CultureInfo.InvariantCulture) : 10;
            var rate = Option(args, "--rate") is { } r ? double.Parse(r, CultureInfo.InvariantCulture) : 200;
            return smoke
                ? new Settings(TimeSpan.FromSeconds(6), 200, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1.5), true)
                : new Settings(TimeSpan.FromMinutes(minutes), rate, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(12), false);
        }

        public void Configure(MetaConversionsOptions options)
        {
            // A full run keeps the library's defaults (batches of 1,000, a 10-s attempt time-out, 4 retries from 1 s,
            // a failed batch back in 30 s, a memory outbox of 10,000), as a shop runs it.
            options.QueueCapacity = QueueCapacity;
            if (Smoke)
            {
                options.AttemptTimeout = TimeSpan.FromSeconds(1);
                options.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
                options.MaxRetryAttempts = 1;
                options.RequeueDelay = TimeSpan.FromMilliseconds(500);
                options.FlushInterval = TimeSpan.FromMilliseconds(100);
            }
        }
    }
}
