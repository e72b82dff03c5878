using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.FakeGraph;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// One node of <see cref="Farm"/>'s web farm, a process of its own started by the farm (<c>farm-node</c>, never by
/// hand): the library's sending side as an application runs it (<see cref="PipelineHost"/>: the real queue, the Redis
/// outbox with its enqueue budget and memory fallback, the sender, the Graph client over HTTP), with
/// <c>Outbox:Provider</c> redis and the farm's key prefix, sending with an access token of its own so that the fake
/// Graph can tell the nodes apart. Commands on standard input, one a line, answers on standard output:
/// <c>produce FROM TO</c> enqueues events number FROM to TO−1 (event IDs <see cref="EventTally.IdOf"/>) from
/// <c>--producers</c> concurrent callers and answers <c>produced</c>; <c>stats</c> answers <c>stats CLAIMED RETRIED</c>
/// (entries taken over after another node's lease expired, events sent again after a failure); <c>quit</c> stops the
/// host as a shutdown does. It starts by answering <c>ready</c>.
/// </summary>
/// <remarks>
/// What each caller was told is written to a file shared with the farm, memory-mapped so that a SIGKILL loses none of
/// it: event N's byte in the first third once its enqueue returned (acknowledged to its caller: the moment a checkout
/// answers its shopper), in the second if its write to Redis outlived <c>EnqueueBudget</c>, in the third if it went
/// to the memory fallback. The last two come from the library's metrics, tied to the event by an
/// <see cref="AsyncLocal{T}"/> that flows with the enqueue into the write it hands over.
/// </remarks>
internal static class FarmNode
{
    public const string Mode = "farm-node";

    private static readonly AsyncLocal<long> Enqueuing = new(); // the event number + 1; 0 outside an enqueue

    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name) => Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length
            ? args[at + 1]
            : throw new ArgumentException($"{Mode} needs {name}: it is started by `-- farm`, not by hand.");

        var capacity = long.Parse(Arg("--capacity"), CultureInfo.InvariantCulture);
        var producers = int.Parse(Arg("--producers"), CultureInfo.InvariantCulture);
        using var file = MemoryMappedFile.CreateFromFile(Arg("--marks"), FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        using var marks = file.CreateViewAccessor(0, 3 * capacity);
        var claimed = new ClaimCounter();

        using var listener = new MeterListener();
        long retried = 0;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MetaConversionsDiagnostics.MeterName &&
                instrument.Name is "capimiddleware.outbox.late_writes" or "capimiddleware.outbox.fallback" or "capimiddleware.events.retried")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "capimiddleware.events.retried")
            {
                Interlocked.Add(ref retried, value);
                return;
            }

            var number = Enqueuing.Value - 1;
            if (number >= 0)
            {
                marks.Write((instrument.Name == "capimiddleware.outbox.late_writes" ? capacity : 2 * capacity) + number, (byte)1);
            }
        });
        listener.Start();

        await using var pipeline = await PipelineHost.StartAsync(Arg("--graph"), o =>
        {
            o.AccessToken = Arg("--token");
            o.BatchSize = 1000;
            o.FlushInterval = TimeSpan.FromMilliseconds(20);
            o.Outbox.Provider = "redis";
            o.Outbox.Redis = Arg("--redis");
            o.Outbox.RedisKeyPrefix = Arg("--prefix");
            o.Outbox.LeaseTimeout = TimeSpan.FromMilliseconds(double.Parse(Arg("--lease-ms"), CultureInfo.InvariantCulture));
            // As the crash suite: a caller told "queued" must have its event in Redis, not in a write the budget
            // handed over or in the memory fallback, for a SIGKILL to lose nothing (docs/outbox.md).
            o.Outbox.EnqueueBudget = TimeSpan.FromSeconds(10);
            if (Arg("--follow-ups") == "on")
            {
                o.FollowUps.Events = [MetaEventNames.Purchase]; // every Purchase remembered: two more writes to Redis per event
            }
        }, services => services.AddSingleton<ILoggerProvider>(claimed));

        var now = DateTimeOffset.UtcNow;
        var purchases = Array.ConvertAll(RealisticEvents.RawAll(), raw => RealisticEvents.ToConversion(raw, now));
        var queue = pipeline.Queue;
        Console.Out.WriteLine("ready");
        Console.Out.Flush();

        while (await Console.In.ReadLineAsync() is { } line)
        {
            var words = line.Split(' ');
            switch (words[0])
            {
                case "produce":
                    var from = long.Parse(words[1], CultureInfo.InvariantCulture);
                    var to = long.Parse(words[2], CultureInfo.InvariantCulture);
                    var next = from - 1;
                    await Task.WhenAll(Enumerable.Range(0, producers).Select(_ => Task.Run(async () =>
                    {
                        long number;
                        while ((number = Interlocked.Increment(ref next)) < to)
                        {
                            Enqueuing.Value = number + 1;
                            if (!await queue.EnqueueAsync(purchases[number % purchases.Length] with { EventId = EventTally.IdOf(number) }))
                            {
                                throw new InvalidOperationException($"Event {number} was not queued.");
                            }

                            marks.Write(number, (byte)1);
                        }
                    })));
                    Console.Out.WriteLine($"produced {from} {to}");
                    break;
                case "stats":
                    Console.Out.WriteLine($"stats {claimed.Count} {Interlocked.Read(ref retried)}");
                    break;
                case "quit":
                    return 0;
                default:
                    throw new InvalidOperationException($"{Mode}: unknown command '{line}'.");
            }

            Console.Out.Flush();
        }

        return 0;
    }

    /// <summary>Counts the entries this node claimed after another's lease expired, from the store's log event (EntriesClaimed).</summary>
    private sealed class ClaimCounter : ILoggerProvider, ILogger
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == "EntriesClaimed" && state is IReadOnlyList<KeyValuePair<string, object?>> values &&
                values.FirstOrDefault(v => v.Key == "Count").Value is int count)
            {
                Interlocked.Add(ref _count, count);
            }
        }

        public void Dispose()
        {
        }
    }
}
