using System.Text.Json;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.FollowUps;

/// <summary>
/// Issue 18, follow-up values: a later margin or predicted lifetime value for a purchase already queued is sent with
/// <c>original_event_data</c> that the library fills from the events it remembers, by order ID or event ID; in memory,
/// and (below) across a restart with SQLite and across nodes with Redis. Against the loopback fake Graph.
/// </summary>
public sealed class FollowUpValueTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly string _folder = Directory.CreateTempSubdirectory("capi-followup-").FullName;

    [Fact]
    public async Task A_margin_for_an_order_is_sent_with_the_purchase_it_follows_up()
    {
        await using var app = await TestApp.StartAsync(RememberPurchases);
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        var purchaseTime = DateTimeOffset.UtcNow.AddHours(-3);
        Assert.True(await queue.EnqueueAsync(Purchase("ord-1001", "evt-1001", purchaseTime)));
        var original = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));

        Assert.Equal(FollowUpOutcome.Queued, await queue.AppendToAsync("ord-1001", d => d.NetRevenue = 12.40m));

        var followUp = (await app.Graph.WaitForEventsAsync(2, Wait))[1];
        Assert.Equal("Purchase", followUp.GetProperty("event_name").GetString());
        Assert.StartsWith("evt-1001-fu-", followUp.GetProperty("event_id").GetString());
        Assert.True(followUp.GetProperty("event_time").GetInt64() >= DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());
        var refersTo = followUp.GetProperty("original_event_data");
        Assert.Equal("Purchase", refersTo.GetProperty("event_name").GetString());
        Assert.Equal(purchaseTime.ToUnixTimeSeconds(), refersTo.GetProperty("event_time").GetInt64());
        Assert.Equal("ord-1001", refersTo.GetProperty("order_id").GetString());
        Assert.Equal("evt-1001", refersTo.GetProperty("event_id").GetString());

        var custom = followUp.GetProperty("custom_data");
        Assert.Equal(12.40m, custom.GetProperty("net_revenue").GetDecimal());
        Assert.Equal(59.90m, custom.GetProperty("value").GetDecimal());
        Assert.Equal("EUR", custom.GetProperty("currency").GetString());
        Assert.Equal("ord-1001", custom.GetProperty("order_id").GetString());

        // The user fields, page and source are the purchase's, as they were sent (hashed): nothing raw was kept.
        Assert.Equal(original.GetProperty("user_data").GetRawText(), followUp.GetProperty("user_data").GetRawText());
        Assert.Equal(original.GetProperty("event_source_url").GetString(), followUp.GetProperty("event_source_url").GetString());
        Assert.Equal("website", followUp.GetProperty("action_source").GetString());
    }

    [Fact]
    public async Task The_same_value_twice_is_one_event_id_and_another_value_is_another()
    {
        await using var app = await TestApp.StartAsync(RememberPurchases);
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        Assert.True(await queue.EnqueueAsync(Purchase("ord-2002", "evt-2002", DateTimeOffset.UtcNow.AddMinutes(-10))));

        Assert.Equal(FollowUpOutcome.Queued, await queue.AppendToAsync("ord-2002", d => d.PredictedLtv = 310m));
        Assert.Equal(FollowUpOutcome.Queued, await queue.AppendToAsync("ord-2002", d => d.PredictedLtv = 310m));
        Assert.Equal(FollowUpOutcome.Queued, await queue.AppendToAsync("ord-2002", d => d.PredictedLtv = 420m));

        var ids = (await app.Graph!.WaitForEventsAsync(4, Wait)).Skip(1).Select(e => e.GetProperty("event_id").GetString()).ToList();
        Assert.Equal(ids[0], ids[1]);
        Assert.NotEqual(ids[0], ids[2]);
    }

    [Fact]
    public async Task An_event_is_found_by_its_event_id_when_it_has_no_order_id()
    {
        await using var app = await TestApp.StartAsync(o => o.FollowUps.Events = ["StartTrial"]);
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        var trial = new ConversionEvent("StartTrial")
        {
            EventId = "trial-77",
            ActionSource = ActionSource.SystemGenerated,
            UserData = { Email = "trial@example.com" },
            CustomData = { Currency = "USD" },
        };
        Assert.True(await queue.EnqueueAsync(trial));

        Assert.Equal(FollowUpOutcome.Queued, await queue.AppendToAsync("trial-77", d => d.PredictedLtv = 95.5m));

        var followUp = (await app.Graph!.WaitForEventsAsync(2, Wait))[1];
        Assert.Equal("StartTrial", followUp.GetProperty("event_name").GetString());
        Assert.Equal("system_generated", followUp.GetProperty("action_source").GetString());
        Assert.Equal("trial-77", followUp.GetProperty("original_event_data").GetProperty("event_id").GetString());
        Assert.False(followUp.GetProperty("original_event_data").TryGetProperty("order_id", out _));
        Assert.Equal(95.5m, followUp.GetProperty("custom_data").GetProperty("predicted_ltv").GetDecimal());
    }

    [Fact]
    public async Task A_purchase_made_in_a_whatsapp_conversation_is_followed_up_on_the_same_channel()
    {
        await using var app = await TestApp.StartAsync(RememberPurchases);
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        var purchase = new ConversionEvent(MetaEventNames.Purchase)
        {
            EventId = "wa-7007",
            ActionSource = ActionSource.BusinessMessaging,
            MessagingChannel = MessagingChannel.WhatsApp,
            UserData = { WhatsAppBusinessAccountId = "104500000000000", WhatsAppClickId = "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a" },
            CustomData = { Value = 42m, Currency = "BRL", OrderId = "wa-ord-7007" },
        };
        Assert.True(await queue.EnqueueAsync(purchase));

        Assert.Equal(FollowUpOutcome.Queued, await queue.AppendToAsync("wa-ord-7007", d => d.NetRevenue = 9m));

        var followUp = (await app.Graph!.WaitForEventsAsync(2, Wait))[1];
        Assert.Equal(("business_messaging", "whatsapp"), (followUp.GetProperty("action_source").GetString(), followUp.GetProperty("messaging_channel").GetString()));
        Assert.Equal("104500000000000", followUp.GetProperty("user_data").GetProperty("whatsapp_business_account_id").GetString());
    }

    [Fact]
    public async Task An_unknown_order_an_unremembered_event_and_a_follow_up_too_late_are_refused_clearly_and_nothing_is_sent()
    {
        await using var app = await TestApp.StartAsync(o => { RememberPurchases(o); o.FollowUps.Window = TimeSpan.FromHours(1); });
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        Assert.True(await queue.EnqueueAsync(Purchase("ord-old", "evt-old", DateTimeOffset.UtcNow.AddHours(-2))));
        var lead = new ConversionEvent("Lead") { EventId = "lead-1", ActionSource = ActionSource.SystemGenerated, UserData = { Email = "lead@example.com" } };
        Assert.True(await queue.EnqueueAsync(lead));
        await app.Graph!.WaitForEventsAsync(2, Wait);

        Assert.Equal(FollowUpOutcome.OriginalUnknown, await queue.AppendToAsync("ord-never", d => d.NetRevenue = 1m));
        Assert.Equal(FollowUpOutcome.OriginalUnknown, await queue.AppendToAsync("lead-1", d => d.PredictedLtv = 1m)); // Lead is not listed
        Assert.Equal(FollowUpOutcome.OriginalTooOld, await queue.AppendToAsync("ord-old", d => d.NetRevenue = 1m));

        var refusals = app.Logs.WithEventId(151).Select(l => l.Message).ToList();
        Assert.Equal(3, refusals.Count);
        Assert.Contains("'ord-never'", refusals[0]);
        Assert.Contains("MetaConversions:FollowUps:Events", refusals[0]);
        Assert.Contains("older than MetaConversions:FollowUps:Window", refusals[2]);
        await app.WaitForOutboxEmptyAsync();
        Assert.Equal(2, app.Graph.AcceptedEvents.Count);
    }

    [Fact]
    public async Task A_follow_up_Meta_would_reject_is_refused_with_the_reason_and_the_original_stays_known()
    {
        await using var app = await TestApp.StartAsync(RememberPurchases);
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        Assert.True(await queue.EnqueueAsync(Purchase("ord-3003", "evt-3003", DateTimeOffset.UtcNow)));

        Assert.Equal(FollowUpOutcome.NotQueued, await queue.AppendToAsync("ord-3003", d => { d.Currency = null; d.Value = null; d.NetRevenue = 5m; }));
        Assert.Contains(app.Logs.WithEventId(3), l => l.Message.Contains("net_revenue needs a currency", StringComparison.Ordinal));
        Assert.Equal(FollowUpOutcome.Queued, await queue.AppendToAsync("ord-3003", d => d.NetRevenue = 5m));
    }

    [Fact]
    public async Task With_the_sqlite_outbox_a_purchase_queued_before_a_restart_is_followed_up_after_it()
    {
        var path = Path.Combine(_folder, "outbox.db");
        var purchaseTime = DateTimeOffset.UtcNow.AddDays(-2);
        void Sqlite(MetaConversionsOptions o)
        {
            RememberPurchases(o);
            o.Outbox.Provider = "sqlite";
            o.Outbox.Path = path;
            o.Outbox.EnqueueBudget = TimeSpan.FromSeconds(10); // a loaded machine's write must not decide the test
        }

        await using (var before = await TestApp.StartAsync(Sqlite))
        {
            Assert.True(await before.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(Purchase("ord-4004", "evt-4004", purchaseTime)));
            await before.Graph!.WaitForEventsAsync(1, Wait);
        }

        await using var after = await TestApp.StartAsync(Sqlite);
        Assert.Equal(FollowUpOutcome.Queued, await after.Services.GetRequiredService<IConversionQueue>().AppendToAsync("ord-4004", d => d.NetRevenue = 20m));

        var followUp = Assert.Single(await after.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("evt-4004", followUp.GetProperty("original_event_data").GetProperty("event_id").GetString());
        Assert.Equal(purchaseTime.ToUnixTimeSeconds(), followUp.GetProperty("original_event_data").GetProperty("event_time").GetInt64());
        Assert.Equal(20m, followUp.GetProperty("custom_data").GetProperty("net_revenue").GetDecimal());
    }

    [SkippableFact]
    public async Task With_the_redis_outbox_a_purchase_queued_on_one_node_is_followed_up_on_another_after_a_restart()
    {
        redis.Require();
        var prefix = "capi:test:" + Guid.NewGuid().ToString("N")[..8];
        void Redis(MetaConversionsOptions o)
        {
            RememberPurchases(o);
            o.Outbox.Provider = "redis";
            o.Outbox.Redis = redis.ConnectionString;
            o.Outbox.RedisKeyPrefix = prefix;
            o.Outbox.EnqueueBudget = TimeSpan.FromSeconds(10);
        }

        await using (var checkoutNode = await TestApp.StartAsync(Redis))
        {
            Assert.True(await checkoutNode.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(Purchase("ord-5005", "evt-5005", DateTimeOffset.UtcNow)));
            await checkoutNode.WaitForOutboxEmptyAsync();
        }

        await using var otherNode = await TestApp.StartAsync(Redis);
        Assert.Equal(FollowUpOutcome.Queued, await otherNode.Services.GetRequiredService<IConversionQueue>().AppendToAsync("evt-5005", d => d.PredictedLtv = 250m));

        var followUp = Assert.Single(await otherNode.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("ord-5005", followUp.GetProperty("original_event_data").GetProperty("order_id").GetString());
        Assert.Equal(250m, followUp.GetProperty("custom_data").GetProperty("predicted_ltv").GetDecimal());
    }

    [SkippableFact]
    public async Task In_redis_remembered_events_are_plain_keys_with_their_expiry_and_no_index()
    {
        redis.Require();
        var prefix = "capi:test:" + Guid.NewGuid().ToString("N")[..8];
        await using var records = CapiMiddleware.Outbox.Redis.RedisKeptRecords<CapiMiddleware.FollowUps.SentEvent>.Connect(
            redis.ConnectionString, prefix, CapiMiddleware.FollowUps.SentEvent.Set);
        var now = DateTimeOffset.UtcNow;
        var sent = new CapiMiddleware.FollowUps.SentEvent(["1234567890"], "{}"u8.ToArray(), now);

        await records.SaveAsync("event:e-1", sent, now.AddHours(1), default);
        await records.SaveAsync("event:e-2", sent, now.AddMinutes(-1), default); // already expired: not kept at all

        Assert.Equal(["1234567890"], (await records.FindAsync("event:e-1", now, default))!.PixelIds);
        Assert.NotNull(await records.FindAsync("event:e-1", now, default)); // found, not taken
        Assert.Null(await records.FindAsync("event:e-1", now.AddHours(1), default)); // the caller's clock decides too
        Assert.Null(await records.FindAsync("event:e-2", now, default));
        Assert.Equal(-1, await records.CountAsync(default));
        Assert.NotNull(await records.TakeAsync("event:e-1", now, default));
        Assert.Null(await records.FindAsync("event:e-1", now, default));
    }

    [SkippableFact]
    public async Task With_redis_down_the_purchase_is_still_queued_and_not_being_remembered_is_said_once()
    {
        redis.Require();
        await using var app = await TestApp.StartAsync(o =>
        {
            RememberPurchases(o);
            o.Outbox.Provider = "redis";
            o.Outbox.Redis = redis.ConnectionString + ",connectTimeout=500,syncTimeout=500,asyncTimeout=500";
            o.Outbox.RedisKeyPrefix = "capi:test:" + Guid.NewGuid().ToString("N")[..8];
            o.Outbox.StoreBreakDuration = TimeSpan.FromSeconds(1); // the fallback's drain probes Redis again each second
        });
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        redis.Kill();
        try
        {
            // The outbox's fallback takes the events; the index's writes fail after the request, which never sees them.
            Assert.True(await queue.EnqueueAsync(Purchase("ord-9001", "evt-9001", DateTimeOffset.UtcNow)));
            Assert.True(await queue.EnqueueAsync(Purchase("ord-9002", "evt-9002", DateTimeOffset.UtcNow)));
            await Eventually.TrueAsync(() => app.Logs.WithEventId(150).Any(), "the failed write is logged");
            Assert.Single(app.Logs.WithEventId(150)); // at most once a minute, with a count
        }
        finally
        {
            await redis.RestartAsync();
        }

        // Both purchases still reach Meta: the drain moves them to Redis once it answers again, and the sender, which
        // paused after each failure (one of them StackExchange.Redis's own TaskCanceledException), leases them there.
        await app.Graph!.WaitForEventsAsync(2, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task With_the_memory_outbox_a_restart_forgets_and_says_so()
    {
        await using (var before = await TestApp.StartAsync(RememberPurchases))
        {
            Assert.True(await before.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(Purchase("ord-6006", "evt-6006", DateTimeOffset.UtcNow)));
        }

        await using var after = await TestApp.StartAsync(RememberPurchases);
        Assert.Equal(FollowUpOutcome.OriginalUnknown, await after.Services.GetRequiredService<IConversionQueue>().AppendToAsync("ord-6006", d => d.NetRevenue = 1m));
    }

    [Fact]
    public async Task By_default_nothing_is_remembered_and_the_refusal_says_what_to_set()
    {
        await using var app = await TestApp.StartAsync();
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        Assert.True(await queue.EnqueueAsync(Purchase("ord-8008", "evt-8008", DateTimeOffset.UtcNow)));

        Assert.Equal(FollowUpOutcome.OriginalUnknown, await queue.AppendToAsync("ord-8008", d => d.NetRevenue = 1m));
        Assert.Contains("list the event, such as Purchase", Assert.Single(app.Logs.WithEventId(151)).Message, StringComparison.Ordinal);
    }

    private static void RememberPurchases(MetaConversionsOptions o) => o.FollowUps.Events = [MetaEventNames.Purchase];

    private static ConversionEvent Purchase(string orderId, string eventId, DateTimeOffset at) => new(MetaEventNames.Purchase)
    {
        EventId = eventId,
        EventTime = at,
        EventSourceUrl = "https://shop.example/checkout",
        UserData = { Email = "buyer@example.com", ClientUserAgent = TestApp.UserAgent, ClientIpAddress = "203.0.113.9" },
        CustomData = { Value = 59.90m, Currency = "EUR", OrderId = orderId },
    };

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
