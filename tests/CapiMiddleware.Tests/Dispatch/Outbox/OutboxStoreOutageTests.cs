using System.Net;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>
/// A durable outbox store that goes away mid-run, under checkouts on a real Kestrel app that sends to the fake Graph
/// API: Redis killed and restarted, an SQLite file whose inserts start failing. Checkouts go on while the store is
/// down, and every event reaches Graph exactly once when it is back. How long a checkout takes meanwhile is measured
/// by the load harness (<c>-- outbox</c>, docs/performance.md), not bounded here.
/// </summary>
public sealed class OutboxStoreOutageTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly string _folder = Directory.CreateTempSubdirectory("capi-outage-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [SkippableFact]
    public async Task Checkouts_go_on_while_redis_is_down_and_every_event_reaches_Meta_once_when_it_is_back()
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        try
        {
            redis.Require();
            await using var app = await TestApp.StartAsync(o =>
            {
                o.Outbox.Provider = "redis";
                o.Outbox.Redis = redis.ConnectionString; // StackExchange.Redis's defaults: a command waits 5 s for a connection
                o.Outbox.RedisKeyPrefix = $"outage:{Guid.NewGuid():N}";
                o.Outbox.StoreBreakDuration = TimeSpan.FromSeconds(1);
            });
            var store = app.Services.GetRequiredService<IOutboxStore>();
            var sent = new List<string>();

            await CheckOutManyAsync(app, "up", 20, sent);
            await Eventually.TrueAsync(() => app.Graph!.AcceptedEvents.Count == sent.Count, "the checkouts before the outage reach Graph", Wait);
            await Eventually.TrueAsync(async () => await store.CountAsync(default) == 0, "Redis holds nothing before it is killed", Wait);

            redis.Kill();
            await CheckOutManyAsync(app, "down", 100, sent);

            var health = await HealthAsync(app);
            Assert.Equal(HealthStatus.Degraded, health.Status);
            Assert.Contains("The redis outbox store is unavailable since", health.Description);
            Assert.Contains("in the memory fallback", health.Description);

            await redis.RestartAsync();
            await EveryEventReachesGraphOnceAsync(app, sent);
            await Eventually.TrueAsync(async () => (await HealthAsync(app)).Status == HealthStatus.Healthy, "the health check is healthy again", Wait);
            Assert.Empty(app.Logs.WithEventId(44)); // nothing lost
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task Checkouts_go_on_while_the_sqlite_file_refuses_writes_and_every_event_reaches_Meta_once_when_it_takes_them_again()
    {
        var path = Path.Combine(_folder, "outbox.db");
        await using var app = await TestApp.StartAsync(o =>
        {
            o.Outbox.Provider = "sqlite";
            o.Outbox.Path = path;
            o.Outbox.StoreBreakDuration = TimeSpan.FromMilliseconds(500);
        });
        var sent = new List<string>();
        await CheckOutManyAsync(app, "up", 20, sent);
        await Eventually.TrueAsync(() => app.Graph!.AcceptedEvents.Count == sent.Count, "the checkouts before the failure reach Graph", Wait);

        // Every insert fails as on a full disk: from another connection, as another process (or the disk) would.
        await using (var other = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await other.OpenAsync();
            await ExecuteAsync(other, "CREATE TRIGGER disk_full BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
        }

        await CheckOutManyAsync(app, "full", 50, sent);
        var health = await HealthAsync(app);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("The sqlite outbox store is unavailable since", health.Description);

        await using (var other = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await other.OpenAsync();
            await ExecuteAsync(other, "DROP TRIGGER disk_full;");
        }

        await EveryEventReachesGraphOnceAsync(app, sent);
        Assert.Empty(app.Logs.WithEventId(44));
    }

    /// <summary>
    /// Waits until Graph has as many events as were checked out and nothing is left anywhere to send (store and
    /// fallback empty, no write under way), then checks that each ID arrived once.
    /// </summary>
    private static async Task EveryEventReachesGraphOnceAsync(TestApp app, List<string> sent)
    {
        var store = app.Services.GetRequiredService<IOutboxStore>();
        await Eventually.TrueAsync(() => app.Graph!.AcceptedEvents.Count >= sent.Count, $"Graph has all {sent.Count} events", Wait);
        await Eventually.TrueAsync(async () => await store.CountAsync(default) == 0, "nothing is left to send", Wait);
        var received = app.Graph!.AcceptedEvents.Select(e => e.GetProperty("event_id").GetString()!).ToList();
        Assert.Equal(sent.Order(), received.Order());
    }

    private static async Task CheckOutManyAsync(TestApp app, string prefix, int count, List<string> sent)
    {
        for (var i = 0; i < count; i++)
        {
            var orderId = $"{prefix}-{i}";
            using var response = await app.Client.PostAsync($"/purchase?orderId={orderId}", new FormUrlEncodedContent([]));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            sent.Add(orderId);
        }
    }

    private static async Task<HealthCheckResult> HealthAsync(TestApp app) =>
        await app.Services.GetRequiredService<MetaConversionsHealthCheck>().CheckHealthAsync(new HealthCheckContext());

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
