using BenchmarkDotNet.Attributes;
using CapiMiddleware.Events;

namespace CapiMiddleware.Benchmarks;

/// <summary>
/// From a raw <see cref="ConversionEvent"/> to the bytes the outbox keeps: validate, normalize, hash, serialize.
/// <see cref="TenThousandFromRaw"/> is the case compared with Meta's Node SDK (<c>node/meta-sdk-bench.mjs</c>): the
/// same raw values in, the event model built from them, then normalized, hashed and serialized, one event at a time.
/// </summary>
[MemoryDiagnoser]
public class EventPipelineBenchmarks
{
    private RawPurchase[] _raw = null!;
    private ConversionEvent[] _events = null!;
    private GraphEvent[] _graphEvents = null!;
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow;
        _raw = RealisticEvents.RawAll();
        _events = Array.ConvertAll(_raw, raw => RealisticEvents.ToConversion(raw, _now));
        _graphEvents = Array.ConvertAll(_events, conversion => GraphEventWriter.TryCreate(conversion, conversion.EventId!, _now, out _)!);
        if (TenThousandFromRaw() == 0 || Write(_events[0]) == 0)
        {
            throw new InvalidOperationException("A realistic event was refused.");
        }
    }

    [Benchmark(Description = "one purchase: TryCreate + Serialize")]
    public int OneEvent() => Write(_events[1]);

    [Benchmark(Description = "10,000 purchases: TryCreate + Serialize (per event)", OperationsPerInvoke = RealisticEvents.Count)]
    public long TenThousandEvents()
    {
        long bytes = 0;
        foreach (var conversion in _events)
        {
            bytes += Write(conversion);
        }

        return bytes;
    }

    [Benchmark(Description = "10,000 purchases from raw values, as the Node SDK run (per event)", OperationsPerInvoke = RealisticEvents.Count)]
    public long TenThousandFromRaw()
    {
        long bytes = 0;
        foreach (var raw in _raw)
        {
            bytes += Write(RealisticEvents.ToConversion(raw, _now));
        }

        return bytes;
    }

    [Benchmark(Description = "10,000 purchases: Serialize only (per event)", OperationsPerInvoke = RealisticEvents.Count)]
    public long TenThousandSerialized()
    {
        long bytes = 0;
        foreach (var graphEvent in _graphEvents)
        {
            bytes += GraphEventWriter.Serialize(graphEvent).Length;
        }

        return bytes;
    }

    private int Write(ConversionEvent conversion)
    {
        var graphEvent = GraphEventWriter.TryCreate(conversion, conversion.EventId!, _now, out _);
        return graphEvent is null ? 0 : GraphEventWriter.Serialize(graphEvent).Length;
    }
}
