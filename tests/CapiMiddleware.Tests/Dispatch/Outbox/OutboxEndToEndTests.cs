using System.Net;
using System.Net.Sockets;
using CapiMiddleware.Dispatch;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>
/// Checkouts on a real Kestrel app, through a durable outbox, to the fake Graph API: what a site owner would see.
/// </summary>
public sealed class OutboxEndToEndTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly string _folder = Directory.CreateTempSubdirectory("capi-outbox-e2e-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_checkout_reaches_Meta_through_the_sqlite_outbox()
    {
        await using var app = await TestApp.StartAsync(o =>
        {
            o.Outbox.Provider = "sqlite";
            o.Outbox.Path = Path.Combine(_folder, "outbox.db");
        });

        await CheckOutAsync(app, "ord-1");

        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("ord-1", sent.GetProperty("event_id").GetString());
        var store = app.Services.GetRequiredService<IOutboxStore>();
        await Eventually.TrueAsync(async () => await store.CountAsync(default) == 0, "the sent event leaves the file");
    }

    [Fact]
    public async Task Events_kept_while_the_token_was_refused_are_sent_by_the_next_start()
    {
        var path = Path.Combine(_folder, "outbox.db");
        await using (var refused = await TestApp.StartAsync(o =>
        {
            o.Outbox.Provider = "sqlite";
            o.Outbox.Path = path;
        }))
        {
            refused.Graph!.Responder = _ => FakeResponse.GraphError(190, message: "Error validating access token");
            await CheckOutAsync(refused, "ord-1");
            await CheckOutAsync(refused, "ord-2");
            await refused.Graph.WaitForRequestsAsync(1, Wait);
            await Eventually.TrueAsync(() => refused.Logs.WithEventId(8).Any(), "the token problem is logged");
            await refused.StopAsync();
            Assert.Empty(refused.Graph.AcceptedEvents);
            Assert.Empty(refused.Logs.WithEventId(11)); // nothing reported lost: the file keeps them
        }

        await using var fixedToken = await TestApp.StartAsync(o =>
        {
            o.Outbox.Provider = "sqlite";
            o.Outbox.Path = path;
        });

        var sent = await fixedToken.Graph!.WaitForEventsAsync(2, Wait);
        Assert.Equal(["ord-1", "ord-2"], sent.Select(e => e.GetProperty("event_id").GetString()).Order());
    }

    [SkippableFact]
    public async Task Checkouts_on_two_nodes_sharing_redis_reach_Meta_once_each()
    {
        redis.Require();
        var prefix = $"e2e:{Guid.NewGuid():N}";
        void Configure(MetaConversionsOptions o)
        {
            o.Outbox.Provider = "redis";
            o.Outbox.Redis = redis.ConnectionString;
            o.Outbox.RedisKeyPrefix = prefix;
        }

        await using var one = await TestApp.StartAsync(Configure);
        await using var two = await TestApp.StartAsync(Configure);
        for (var i = 0; i < 10; i++)
        {
            await CheckOutAsync(i % 2 == 0 ? one : two, $"ord-{i}");
        }

        IEnumerable<string?> Sent() => one.Graph!.AcceptedEvents.Concat(two.Graph!.AcceptedEvents).Select(e => e.GetProperty("event_id").GetString());
        await Eventually.TrueAsync(() => Sent().Count() >= 10, "every checkout reaches one of the fake Graph servers", Wait);
        // Once the shared stream holds nothing, every send is over: a second copy would have arrived by then.
        await one.WaitForOutboxEmptyAsync();
        await two.WaitForOutboxEmptyAsync();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"ord-{i}").Order(), Sent().Order());
    }

    /// <summary>
    /// What the checkout costs while the store is down is a figure of the load harness (<c>-- outbox</c>), not a
    /// bound here: this test proves the behaviour, the harness measures the time.
    /// </summary>
    [Fact]
    public async Task An_unreachable_redis_neither_stops_the_app_nor_loses_the_checkout()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        await using var app = await TestApp.StartAsync(o =>
        {
            o.Outbox.Provider = "redis";
            // syncTimeout bounds how long a command waits for a connection (5 s by default).
            o.Outbox.Redis = $"127.0.0.1:{closedPort},connectTimeout=500,syncTimeout=500";
        });

        await CheckOutAsync(app, "ord-1");

        // Its write outlives the budget, then fails: the event waits in memory for Redis instead of being lost.
        await Eventually.TrueAsync(() => app.Logs.WithEventId(50).Any(), "the event is kept in the memory fallback");
        Assert.Empty(app.Logs.WithEventId(44));

        // The sender finds Redis gone too: it says so and keeps the app running.
        await Eventually.TrueAsync(() => app.Logs.WithEventId(17).Any(), "the sender reports the failing store");
        await CheckOutAsync(app, "ord-2");
        Assert.DoesNotContain(app.Logs.Lines, l => l.Level == LogLevel.Critical);
    }

    /// <summary>
    /// StackExchange.Redis reports some dropped connections as a <see cref="TaskCanceledException"/> of its own, which
    /// once ended the sender for good (and, by the host's default, stopped the app). Here a store of the app's own
    /// does the same, twice: waiting for entries, then leasing them.
    /// </summary>
    [Fact]
    public async Task A_store_that_reports_a_failure_as_a_cancellation_of_its_own_neither_stops_the_sender_nor_the_app()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new CancellingStore(new ListOutboxStore(time));
        await using var app = await TestApp.StartAsync(services: s => s.AddSingleton<TimeProvider>(time).AddOutboxStore(_ => store));

        await CheckOutAsync(app, "ord-1");
        await Eventually.TrueAsync(
            () =>
            {
                if (app.Graph!.AcceptedEvents.Count >= 1)
                {
                    return true;
                }

                time.Advance(TimeSpan.FromMilliseconds(500)); // through the sender's pauses after each failure
                return false;
            },
            "the purchase reaches Graph once the store answers again");

        Assert.True(store.Waits > 1 && store.Leases > 1); // the sender came back to the store after each failure
        // Both failures counted, said once (at most once a minute), neither the end of the sender.
        Assert.Contains("The background sender failed (1 times so far)", Assert.Single(app.Logs.WithEventId(17)).Message);
        Assert.Equal(2, store.FailuresThrown);
        Assert.Empty(app.Logs.WithEventId(9, "Microsoft.Extensions.Hosting")); // "BackgroundService failed"
        await CheckOutAsync(app, "ord-2");
        await Eventually.TrueAsync(
            () =>
            {
                if (app.Graph!.AcceptedEvents.Count >= 2)
                {
                    return true;
                }

                time.Advance(TimeSpan.FromMilliseconds(100));
                return false;
            },
            "the next purchase reaches Graph too");
    }

    [Fact]
    public async Task A_write_that_fails_as_a_cancellation_of_the_stores_own_loses_that_event_loudly_and_never_fails_the_checkout()
    {
        var store = new CancellingStore(new ListOutboxStore(TimeProvider.System), failWrites: true);
        await using var app = await TestApp.StartAsync(services: s => s.AddOutboxStore(_ => store));

        await CheckOutAsync(app, "ord-1"); // 200: the purchase itself goes on
        Assert.Contains("Could not store Purchase event", Assert.Single(app.Logs.WithEventId(44)).Message);
        await CheckOutAsync(app, "ord-2");
        Assert.Equal("ord-2", (await app.Graph!.WaitForEventsAsync(1, TimeSpan.FromSeconds(30)))[0].GetProperty("custom_data").GetProperty("order_id").GetString());
    }

    private static async Task CheckOutAsync(TestApp app, string orderId)
    {
        using var response = await app.Client.PostAsync($"/purchase?orderId={orderId}", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// A store of the app's own whose first wait and first lease (or, with <paramref name="failWrites"/>, first write)
    /// fail as a dropped connection of a driver does.
    /// </summary>
    private sealed class CancellingStore(ListOutboxStore inner, bool failWrites = false) : IOutboxStore
    {
        public int Writes;
        public int Waits;
        public int Leases;
        public int FailuresThrown;

        public bool IsDurable => inner.IsDurable;

        public ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken) =>
            failWrites && Interlocked.Increment(ref Writes) == 1
                ? throw Dropped()
                : inner.EnqueueAsync(entry, cancellationToken);

        public async ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken)
        {
            var waiting = await inner.WaitForEntriesAsync(cancellationToken);
            return !failWrites && Interlocked.Increment(ref Waits) == 1 ? throw Dropped() : waiting;
        }

        public ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken) =>
            !failWrites && Interlocked.Increment(ref Leases) == 1
                ? throw Dropped()
                : inner.LeaseAsync(maxCount, linger, cancellationToken);

        public ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken) => inner.AcknowledgeAsync(entries, cancellationToken);

        public ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken) => inner.RetryLaterAsync(entries, delay, cancellationToken);

        public ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken) => inner.DeadLetterAsync(entries, reason, cancellationToken);

        public ValueTask<long> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);

        public ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken) => inner.GetRecentDeadLettersAsync(maxCount, cancellationToken);

        private TaskCanceledException Dropped()
        {
            Interlocked.Increment(ref FailuresThrown);
            return new TaskCanceledException("The connection was dropped.");
        }
    }
}
