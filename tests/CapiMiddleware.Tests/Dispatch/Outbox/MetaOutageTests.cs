using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>
/// An hour-long Meta outage in simulated time, per store: the app runs on a <see cref="FakeTimeProvider"/> with the
/// library's default delays (batches of 1,000, a 10-s attempt time-out, 4 retries from 1 s, a failed batch back after
/// 30 s), three purchases arrive every simulated second, and for one hour the fake Graph API answers 503 or leaves the
/// request hanging past the attempt time-out. Then Meta comes back.
/// </summary>
/// <remarks>
/// What stays flat is measured where the code makes it exact rather than by the GC heap, which other tests running in
/// parallel would blur: the entries the sender has leased and not yet settled (what a durable store's process holds in
/// memory: at most one batch, whatever the backlog), and the memory store's count against its capacity. The soak harness
/// (<c>-- soak</c>, docs/performance.md) measures the process's heap over ten minutes of real time.
/// </remarks>
public sealed class MetaOutageTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IDisposable
{
    private const int PerSecond = 3;
    private const int MemoryCapacity = 2_000;
    private const int BatchSize = 1_000;
    private static readonly TimeSpan Outage = TimeSpan.FromHours(1);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);

    private readonly string _folder = Directory.CreateTempSubdirectory("capi-outage-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [SkippableTheory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    [InlineData("redis")]
    public async Task Every_accepted_event_reaches_Meta_once_after_an_hour_long_outage_and_memory_stays_bounded(string provider)
    {
        if (provider == "redis")
        {
            redis.Require();
        }

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var wire = new OutageWire();
        WatchedStore? watched = null;
        await using var app = await TestApp.StartAsync(
            o =>
            {
                o.BatchSize = BatchSize;
                o.FlushInterval = TimeSpan.FromSeconds(1);
                o.RetryBaseDelay = TimeSpan.FromSeconds(1);
                o.QueueCapacity = MemoryCapacity;
                o.Outbox.Provider = provider;
                o.Outbox.Path = Path.Combine(_folder, "outbox.db");
                o.Outbox.Redis = provider == "redis" ? redis.ConnectionString : null;
                o.Outbox.RedisKeyPrefix = $"outage:{Guid.NewGuid():N}";
            },
            services: s =>
            {
                s.AddSingleton<TimeProvider>(time);
                s.AddSingleton<IOutboxStore>(sp => watched = new WatchedStore(OutboxProviders.Create(sp)));
                s.AddHttpClient(GraphApiClient.HttpClientName).AddHttpMessageHandler(() => new OutageWireHandler(wire));
            },
            graphOptions: new FakeGraphApiOptions { TimeProvider = time });

        var graph = app.Graph!;
        long failedAnswers = 0;
        graph.Responder = request =>
        {
            // A request is answered as Meta was when it left the app: one sent during the outage fails even if it
            // arrives a moment after (the fake server reads a large body slowly), so none is accepted twice.
            if (!request.Headers.ContainsKey(OutageWire.SentDuringOutage))
            {
                return null; // validated and accepted, as Meta does
            }

            // Two requests in three are refused, the third is left hanging until the attempt time-out gives up on it.
            return Interlocked.Increment(ref failedAnswers) % 3 == 0 ? FakeResponse.Hang() : FakeResponse.Status(503);
        };

        var queue = app.Services.GetRequiredService<ConversionQueue>();
        var store = app.Services.GetRequiredService<IOutboxStore>();
        var accepted = new List<string>();
        var dropped = 0;
        var next = 0;
        long mostHeld = 0;

        // The hour: three purchases a second, the clock one second further after each.
        for (var elapsed = TimeSpan.Zero; elapsed < Outage; elapsed += Step)
        {
            var ids = Enumerable.Range(next, PerSecond).Select(n => $"{provider}-{n}").ToArray();
            next += PerSecond;
            var enqueues = ids.Select(id => queue.EnqueueAsync(SampleEvents.Purchase(id)).AsTask()).ToArray();
            if (provider == "memory")
            {
                Assert.All(enqueues, e => Assert.True(e.IsCompleted, "an enqueue into the memory outbox waited")); // never blocks
            }

            var results = await Task.WhenAll(enqueues);
            for (var i = 0; i < ids.Length; i++)
            {
                if (results[i])
                {
                    accepted.Add(ids[i]);
                }
                else
                {
                    dropped++;
                }
            }

            mostHeld = Math.Max(mostHeld, await store.CountAsync(default));
            time.Advance(Step);
        }

        // The sender runs on its own threads: a loaded machine may have let it send only a few times while the loop
        // raced through the simulated hour. The outage goes on (simulated time moves on) until it has tried ten times.
        await Eventually.TrueAsync(
            () =>
            {
                if (Interlocked.Read(ref failedAnswers) >= 10)
                {
                    return true;
                }

                time.Advance(Step);
                return false;
            },
            "the sender keeps trying through the outage (ten failed requests)",
            TimeSpan.FromSeconds(60));
        var arrivals = next;
        var failedDuringOutage = Interlocked.Read(ref failedAnswers);
        Assert.Empty(graph.AcceptedEvents);

        // Meta is back: the clock keeps moving until everything accepted has arrived and the store is empty. It stands
        // still while a request sent since is on its way: a real millisecond must not become ten simulated seconds, or
        // the attempt time-out would give up on an answer on its way and the batch would go again (Meta would
        // deduplicate it; here it would be a duplicate that no real outage causes).
        wire.Down = false;
        var recovery = TimeSpan.Zero;
        await Eventually.TrueAsync(
            async () =>
            {
                if (graph.AcceptedEvents.Count >= accepted.Count && await store.CountAsync(default) == 0)
                {
                    return true;
                }

                if (wire.InFlightSinceRecovery == 0)
                {
                    time.Advance(Step);
                    recovery += Step;
                }

                return false;
            },
            $"every accepted event of the {provider} outbox reaches Meta after the outage",
            TimeSpan.FromSeconds(120));

        var delivered = graph.AcceptedEvents.Select(e => e.GetProperty("event_id").GetString()!).ToList();
        Assert.Equal(accepted.Order(), delivered.Order()); // every accepted event, each exactly once
        Assert.True(watched!.MostOutstanding <= BatchSize, $"the sender held {watched.MostOutstanding} entries at once");
        if (provider == "memory")
        {
            Assert.True(mostHeld <= MemoryCapacity, $"the memory outbox held {mostHeld}");
            Assert.Equal(arrivals - accepted.Count, dropped);
            Assert.Equal(dropped, queue.DroppedCount); // counted by the library too
            Assert.True(dropped > 0, "an hour's backlog overflows the memory outbox");
        }
        else
        {
            Assert.Equal(0, dropped);
            Assert.Equal(arrivals, accepted.Count);
        }

        output.WriteLine($"{provider}: {arrivals:N0} purchases in a simulated hour of outage, {accepted.Count:N0} accepted, {dropped:N0} dropped; " +
            $"{failedDuringOutage:N0} failed requests; most in the store {mostHeld:N0}, most held by the sender at once {watched.MostOutstanding:N0}; " +
            $"all delivered once, {recovery.TotalSeconds:N0} simulated seconds after Meta came back.");
    }

    /// <summary>Whether Meta is down, as the app's requests see it when they leave, and the requests on their way since.</summary>
    private sealed class OutageWire
    {
        public const string SentDuringOutage = "X-Test-Sent-During-Outage";

        private int _inFlight;
        private volatile bool _down = true;

        public bool Down
        {
            get => _down;
            set => _down = value;
        }

        public int InFlightSinceRecovery => Volatile.Read(ref _inFlight);

        public void Leaving() => Interlocked.Increment(ref _inFlight);

        public void Back() => Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>On the library's Graph client: marks what leaves during the outage, counts what leaves after it.</summary>
    private sealed class OutageWireHandler(OutageWire wire) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (wire.Down)
            {
                request.Headers.Add(OutageWire.SentDuringOutage, "1");
                return await base.SendAsync(request, cancellationToken);
            }

            wire.Leaving();
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            finally
            {
                wire.Back();
            }
        }
    }

    /// <summary>
    /// The real store, counting the entries the sender holds: leased and not yet acknowledged, retried or dead-lettered.
    /// Entries the store drops as too old on lease never reach the sender and are not counted.
    /// </summary>
    private sealed class WatchedStore(IOutboxStore inner) : IOutboxStore, IAsyncDisposable
    {
        private long _outstanding;
        private long _mostOutstanding;

        public long MostOutstanding => Interlocked.Read(ref _mostOutstanding);

        public bool IsDurable => inner.IsDurable;

        public ValueTask<long> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);

        public ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken) => inner.EnqueueAsync(entry, cancellationToken);

        public ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken) => inner.WaitForEntriesAsync(cancellationToken);

        public async ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken)
        {
            var batch = await inner.LeaseAsync(maxCount, linger, cancellationToken);
            var now = Interlocked.Add(ref _outstanding, batch.Count);
            long most;
            while (now > (most = Interlocked.Read(ref _mostOutstanding)) && Interlocked.CompareExchange(ref _mostOutstanding, now, most) != most)
            {
            }

            return batch;
        }

        public ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _outstanding, -entries.Count);
            return inner.AcknowledgeAsync(entries, cancellationToken);
        }

        public ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _outstanding, -entries.Count);
            return inner.RetryLaterAsync(entries, delay, cancellationToken);
        }

        public ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _outstanding, -entries.Count);
            return inner.DeadLetterAsync(entries, reason, cancellationToken);
        }

        public ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken) =>
            inner.GetRecentDeadLettersAsync(maxCount, cancellationToken);

        public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
    }
}
