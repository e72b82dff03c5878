using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Identity;

/// <summary>
/// Issue 16 with the durable outbox stores: an identity captured before a restart (SQLite), or on another node of a web
/// farm (Redis), joins the confirmation that arrives after it, or on the other node.
/// </summary>
public sealed class DurableIdentityTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly string _folder = Directory.CreateTempSubdirectory("capi-identity-").FullName;

    [Fact]
    public async Task With_the_sqlite_outbox_an_identity_captured_before_a_restart_joins_the_confirmation_after_it()
    {
        var path = Path.Combine(_folder, "outbox.db");
        await using (var before = await TestApp.StartAsync(o => { o.Outbox.Provider = "sqlite"; o.Outbox.Path = path; o.Outbox.EnqueueBudget = TimeSpan.FromSeconds(10); }, sendToGraph: false))
        {
            await PaymentConfirmationTests.PayAsync(before, "ord-restart", cookie: "_fbc=fb.1.1700000000000.Restart_Click; _fbp=fb.1.1700000000000.5150");
        }

        await using var after = await TestApp.StartAsync(o => { o.Outbox.Provider = "sqlite"; o.Outbox.Path = path; });
        Assert.True(await after.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(PaymentConfirmationTests.Purchase().WithIdentityOf("ord-restart")));

        var sent = Assert.Single(await after.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("ord-restart", sent.GetProperty("event_id").GetString());
        Assert.Equal("fb.1.1700000000000.Restart_Click", sent.GetProperty("user_data").GetProperty("fbc").GetString());
        Assert.Equal("website", sent.GetProperty("action_source").GetString());
    }

    [SkippableFact]
    public async Task With_the_redis_outbox_the_checkout_on_one_node_joins_the_webhook_on_another()
    {
        redis.Require();
        var prefix = "capi:test:" + Guid.NewGuid().ToString("N")[..8];
        void Configure(MetaConversionsOptions o)
        {
            o.Outbox.Provider = "redis";
            o.Outbox.Redis = redis.ConnectionString;
            o.Outbox.RedisKeyPrefix = prefix;
            o.Outbox.EnqueueBudget = TimeSpan.FromSeconds(10); // a loaded machine's round trip must not decide the test
        }

        await using var checkoutNode = await TestApp.StartAsync(Configure);
        await using var webhookNode = await TestApp.StartAsync(Configure);
        await PaymentConfirmationTests.PayAsync(checkoutNode, "ord-farm", cookie: "_fbc=fb.1.1700000000000.Farm_Click; _fbp=fb.1.1700000000000.6160");

        Assert.True(await webhookNode.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(PaymentConfirmationTests.Purchase().WithIdentityOf("ord-farm")));

        // Either node may send it (one outbox): it reaches one of the two fake Graph servers, joined.
        await Eventually.TrueAsync(
            () => checkoutNode.Graph!.AcceptedEvents.Count + webhookNode.Graph!.AcceptedEvents.Count > 0, "the Purchase is sent", Wait);
        var sent = Assert.Single(checkoutNode.Graph!.AcceptedEvents.Concat(webhookNode.Graph!.AcceptedEvents));
        Assert.Equal("ord-farm", sent.GetProperty("event_id").GetString());
        Assert.Equal("fb.1.1700000000000.Farm_Click", sent.GetProperty("user_data").GetProperty("fbc").GetString());
        Assert.Equal("fb.1.1700000000000.6160", sent.GetProperty("user_data").GetProperty("fbp").GetString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a file still closing; the temp folder is the system's to clean
        }
    }
}
