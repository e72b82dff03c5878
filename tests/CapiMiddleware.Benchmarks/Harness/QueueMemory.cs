using System.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.FakeGraph;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// Memory with 100,000 events queued in the memory outbox while sending is paused (the loopback Graph refuses the
/// token, code 190, as during a token expiry): bytes per queued event (managed heap after a full collection, before and
/// after), and the process's working set and GC heap.
/// </summary>
internal static class QueueMemory
{
    public static async Task<bool> RunAsync(bool smoke)
    {
        var count = smoke ? 2_000 : 100_000;
        Console.WriteLine($"## Memory: {count:N0} purchases queued in the memory outbox, sending paused (token refused)");
        var now = DateTimeOffset.UtcNow;
        var purchases = Array.ConvertAll(RealisticEvents.RawAll(), raw => RealisticEvents.ToConversion(raw, now));
        long payloadBytes = 0;
        foreach (var purchase in purchases)
        {
            payloadBytes += GraphEventWriter.Serialize(GraphEventWriter.TryCreate(purchase, purchase.EventId!, now, out _)!).Length;
        }

        await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true });
        graph.TokenRevoked = true;
        await using var pipeline = await PipelineHost.StartAsync(graph.BaseUrl.ToString(), o =>
        {
            o.QueueCapacity = count + 1_000;
            o.FlushInterval = TimeSpan.FromMilliseconds(20);
        });

        // Pause the sender first: one event, refused with its token; from then on everything stays queued.
        await pipeline.Queue.EnqueueAsync(purchases[0]);
        while (graph.RequestCount == 0)
        {
            await Task.Delay(10);
        }

        await Task.Delay(200);
        var before = Snapshot();
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        for (var i = 1; i < count; i++)
        {
            await pipeline.Queue.EnqueueAsync(purchases[i % purchases.Length]);
        }

        var enqueueWall = Stopwatch.GetElapsedTime(start).TotalMicroseconds / (count - 1);
        process.Refresh();
        var enqueueCpu = (process.TotalProcessorTime - cpu).TotalMicroseconds / (count - 1);

        var queued = await pipeline.Store.CountAsync(CancellationToken.None);
        var after = Snapshot();
        var perEvent = (double)(after.Heap - before.Heap) / (count - 1);
        Console.WriteLine();
        Console.WriteLine("| | Before | With the events queued | Per queued event |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| Managed heap after a full GC | {Mb(before.Heap)} | {Mb(after.Heap)} | **{perEvent:N0} B** |");
        Console.WriteLine($"| GC heap size (GCMemoryInfo) | {Mb(before.GcHeap)} | {Mb(after.GcHeap)} | |");
        Console.WriteLine($"| Process working set | {Mb(before.WorkingSet)} | {Mb(after.WorkingSet)} | |");
        Console.WriteLine();
        Console.WriteLine($"Events queued: {queued:N0}; the JSON payload alone averages {(double)payloadBytes / purchases.Length:N0} B per event. " +
            $"Queuing them with IConversionQueue.EnqueueAsync, one thread, from a cold start (the JIT tiering up, every payload kept): " +
            $"{enqueueWall:0.00} µs wall, {enqueueCpu:0.00} µs of process CPU per event.");
        Console.WriteLine($"{HarnessCommand.ResultPrefix} memory bytes_per_event={perEvent:N0} working_set_mb={after.WorkingSet / 1048576.0:N0}");
        Console.WriteLine();
        return queued >= count;
    }

    private static string Mb(long bytes) => $"{bytes / 1048576.0:N1} MB";

    private static (long Heap, long GcHeap, long WorkingSet) Snapshot()
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        return (heap, GC.GetGCMemoryInfo().HeapSizeBytes, process.WorkingSet64);
    }
}
