using System.Net;
using System.Net.Sockets;
using CapiMiddleware.Dispatch;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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

    private static async Task CheckOutAsync(TestApp app, string orderId)
    {
        using var response = await app.Client.PostAsync($"/purchase?orderId={orderId}", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
