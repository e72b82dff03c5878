using CapiMiddleware.Records;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Identity;
using CapiMiddleware.Outbox.Sqlite;
using CapiMiddleware.Tests.Dispatch.Outbox;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Tests.DependencyInjection;

/// <summary>A wrong setting stops the app at start with a message that names the setting.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("PixelId", "pixel-123", "MetaConversions:PixelId")]
    [InlineData("GraphApiVersion", "24", "MetaConversions:GraphApiVersion")]
    [InlineData("GraphApiBaseUrl", "graph.facebook.com", "MetaConversions:GraphApiBaseUrl")]
    [InlineData("CookieDomain", "https://example.com", "MetaConversions:CookieDomain")]
    [InlineData("CookieDomain", ".example.com", "MetaConversions:CookieDomain")]
    [InlineData("BatchSize", "1001", "MetaConversions:BatchSize")]
    [InlineData("BatchSize", "0", "MetaConversions:BatchSize")]
    [InlineData("FlushInterval", "00:00:00", "MetaConversions:FlushInterval")]
    [InlineData("QueueCapacity", "0", "MetaConversions:QueueCapacity")]
    [InlineData("AttemptTimeout", "00:00:00.001", "MetaConversions:AttemptTimeout")]
    [InlineData("MaxRetryAttempts", "-1", "MetaConversions:MaxRetryAttempts")]
    [InlineData("TestEventCode", "TEST 123", "MetaConversions:TestEventCode")]
    [InlineData("Outbox:Provider", "mongodb", "MetaConversions:Outbox:Provider must be memory, sqlite or redis; got 'mongodb'")]
    [InlineData("Outbox:Provider", "sqlite", "MetaConversions:Outbox:Path is required when MetaConversions:Outbox:Provider is sqlite")]
    [InlineData("Outbox:Provider", "redis", "MetaConversions:Outbox:Redis is required when MetaConversions:Outbox:Provider is redis")]
    [InlineData("Outbox:LeaseTimeout", "00:00:00.1", "MetaConversions:Outbox:LeaseTimeout")]
    [InlineData("Outbox:EnqueueBudget", "00:00:00", "MetaConversions:Outbox:EnqueueBudget must be from 00:00:00.001 to 00:00:10")]
    [InlineData("Outbox:EnqueueBudget", "00:00:11", "MetaConversions:Outbox:EnqueueBudget")]
    [InlineData("Outbox:FallbackPath", "/tmp/capi-fallback.db", "MetaConversions:Outbox:FallbackPath keeps what sqlite or redis did not take")]
    [InlineData("Identities:Lifetime", "00:00:59", "MetaConversions:Identities:Lifetime must be from 00:01:00 to 7.00:00:00")]
    [InlineData("Identities:Lifetime", "7.00:00:01", "MetaConversions:Identities:Lifetime")]
    [InlineData("Identities:Capacity", "0", "MetaConversions:Identities:Capacity must be from 1 to 10000000; got 0")]
    [InlineData("Identities:Capacity", "10000001", "MetaConversions:Identities:Capacity")]
    [InlineData("FollowUps:Events:0", " ", "MetaConversions:FollowUps:Events: ' ' is not an event name Meta accepts")]
    [InlineData("FollowUps:Window", "00:59:59", "MetaConversions:FollowUps:Window must be from 01:00:00 to 7.00:00:00")]
    [InlineData("FollowUps:Window", "7.00:00:01", "MetaConversions:FollowUps:Window")]
    [InlineData("FollowUps:Capacity", "0", "MetaConversions:FollowUps:Capacity must be from 1 to 10000000; got 0")]
    [InlineData("LimitedDataUse:Country", "840", "MetaConversions:LimitedDataUse:Country")]
    [InlineData("LimitedDataUse:State", "1000", "a state (1000) needs the country 1")]
    [InlineData("CrawlerUserAgents:0", " ", "MetaConversions:CrawlerUserAgents")]
    [InlineData("Inspector:AuthorizationPolicy", " ", "MetaConversions:Inspector:AuthorizationPolicy")]
    [InlineData("ClientIpEndpoint", "ftp://ipv6.example.com/ip", "MetaConversions:ClientIpEndpoint")]
    [InlineData("ClientIpEndpoint", "//ipv6.example.com/ip", "MetaConversions:ClientIpEndpoint")]
    [InlineData("PersonalDataQueryParameters:0", " ", "MetaConversions:PersonalDataQueryParameters")]
    [InlineData("DatasetQuality:Interval", "00:04:59", "MetaConversions:DatasetQuality:Interval must be from 00:05:00 to 1.00:00:00")]
    [InlineData("DatasetQuality:Interval", "1.00:00:01", "MetaConversions:DatasetQuality:Interval")]
    [InlineData("DatasetQuality:MinimumMatchQuality", "11", "MetaConversions:DatasetQuality:MinimumMatchQuality must be from 0 to 10")]
    [InlineData("DatasetQuality:MinimumEventCoverage", "-1", "MetaConversions:DatasetQuality:MinimumEventCoverage must be a percentage from 0 to 100")]
    [InlineData("DatasetQuality:AgentName", "Partner_Name", "MetaConversions:DatasetQuality:AgentName must be the normalized partner_agent")]
    [InlineData("DatasetQuality:AppSecret", "s3cr3t", "MetaConversions:DatasetQuality:AppSecret is set but MetaConversions:DatasetQuality:AccessToken is not")]
    [InlineData("DatasetQuality:EventNames:0", " ", "MetaConversions:DatasetQuality:EventNames")]
    public async Task A_bad_setting_stops_the_app_naming_the_setting(string key, string value, string named)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(new() { [key] = value }));
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public async Task A_token_without_a_pixel_is_refused_and_the_token_is_not_repeated()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(
            () => StartWithConfigurationAsync(new() { ["AccessToken"] = "EAAB secret" }));
        Assert.Contains("MetaConversions:PixelId is required", error.Message);
        Assert.Contains("MetaConversions:AccessToken contains white space", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    /// <summary>Issue 14, item 6: a token pasted into the wrong setting must not land in the start-up error, and so in the log.</summary>
    [Theory]
    [InlineData("PixelId", "MetaConversions:PixelId must be the numeric ID")]
    [InlineData("Pixels:0:PixelId", "MetaConversions:Pixels:0:PixelId must be the numeric ID")]
    [InlineData("TestEventCode", "MetaConversions:TestEventCode must be the code")]
    [InlineData("Pixels:0:TestEventCode", "MetaConversions:Pixels:0:TestEventCode must be the code")]
    [InlineData("GraphApiBaseUrl", "MetaConversions:GraphApiBaseUrl must be an absolute https URL")]
    public async Task A_token_pasted_into_the_wrong_setting_is_named_never_repeated(string key, string named)
    {
        const string token = "EAABsbCS1iHgBAKZBZCtokenTOKEN0123456789ZZZZ/+=";
        var settings = new Dictionary<string, string?> { [key] = token };
        if (key.StartsWith("Pixels:0:", StringComparison.Ordinal) && key != "Pixels:0:PixelId")
        {
            settings["Pixels:0:PixelId"] = "1234567890";
        }

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(settings));
        Assert.Contains(named, error.Message);
        Assert.DoesNotContain("EAAB", error.Message);
        Assert.DoesNotContain("token", error.Message.Replace("access token", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://graph.example.net", false)]
    [InlineData("http://10.0.0.5:8080", false)]
    [InlineData("http://127.0.0.1:5555", true)]
    [InlineData("http://localhost:5555", true)]
    [InlineData("http://[::1]:5555", true)]
    [InlineData("https://graph.example.net", true)]
    public async Task Plain_http_to_graph_is_refused_except_on_loopback_because_the_token_would_travel_in_clear(string url, bool allowed)
    {
        var start = () => StartWithConfigurationAsync(new() { ["GraphApiBaseUrl"] = url });
        if (allowed)
        {
            await using var app = await start();
            return;
        }

        var error = await Assert.ThrowsAsync<OptionsValidationException>(start);
        Assert.Contains("MetaConversions:GraphApiBaseUrl must use https", error.Message);
    }

    [Fact]
    public async Task A_redis_connection_string_that_does_not_parse_is_refused_without_being_repeated()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(new()
        {
            ["Outbox:Provider"] = "Redis",
            ["Outbox:Redis"] = "redis.internal:6379,pasword=hunter2",
        }));
        Assert.Contains("MetaConversions:Outbox:Redis is not a StackExchange.Redis connection string", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public async Task A_fallback_file_that_is_the_outbox_file_is_refused()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(new()
        {
            ["Outbox:Provider"] = "sqlite",
            ["Outbox:Path"] = "/var/lib/shop/outbox.db",
            ["Outbox:FallbackPath"] = "/var/lib/shop/../shop/outbox.db",
        }));
        Assert.Contains("MetaConversions:Outbox:FallbackPath must be another file than MetaConversions:Outbox:Path", error.Message);
    }

    [Fact]
    public async Task A_fallback_file_that_cannot_be_created_stops_the_app_naming_the_setting()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"capi-options-{Guid.NewGuid():N}");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartWithConfigurationAsync(new()
        {
            ["Outbox:Provider"] = "sqlite",
            ["Outbox:Path"] = Path.Combine(folder, "outbox.db"),
            ["Outbox:FallbackPath"] = "/proc/capi-fallback/fallback.db",
        }));
        Directory.Delete(folder, recursive: true);
        Assert.Contains("MetaConversions:Outbox:FallbackPath", error.Message);
        Assert.Contains("/proc/capi-fallback/fallback.db", error.Message);
    }

    [Fact]
    public async Task An_sqlite_file_that_cannot_be_created_stops_the_app_naming_the_setting()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartWithConfigurationAsync(new()
        {
            ["Outbox:Provider"] = "sqlite",
            ["Outbox:Path"] = "/proc/capi-outbox/outbox.db",
        }));
        Assert.Contains("MetaConversions:Outbox:Path", error.Message);
        Assert.Contains("/proc/capi-outbox/outbox.db", error.Message);
    }

    [Fact]
    public async Task The_embedded_defaults_start_without_any_setting()
    {
        await using var app = await StartWithConfigurationAsync([]);
        var options = app.Services.GetRequiredService<IOptions<MetaConversionsOptions>>().Value;
        Assert.Equal("https://graph.facebook.com", options.GraphApiBaseUrl);
        Assert.Equal("v24.0", options.GraphApiVersion);
        Assert.Equal(1000, options.BatchSize);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FlushInterval);
        Assert.Null(options.AccessToken);
        Assert.Equal(("memory", TimeSpan.FromMinutes(1), "capi:outbox", TimeSpan.FromMilliseconds(50)),
            (options.Outbox.Provider, options.Outbox.LeaseTimeout, options.Outbox.RedisKeyPrefix, options.Outbox.EnqueueBudget));
        Assert.IsType<MemoryOutboxStore>(app.Services.GetRequiredService<IOutboxStore>());
        Assert.Equal((TimeSpan.FromDays(3), 100_000), (options.Identities.Lifetime, options.Identities.Capacity));
        Assert.NotNull(app.Services.GetRequiredService<IKeptRecords<CapturedIdentity>>());
    }

    [Fact]
    public async Task The_identity_store_lives_in_the_outbox_file_and_binds_its_settings()
    {
        var folder = Directory.CreateTempSubdirectory("capi-options-").FullName;
        try
        {
            await using var app = await StartWithConfigurationAsync(new()
            {
                ["Outbox:Provider"] = "sqlite",
                ["Outbox:Path"] = Path.Combine(folder, "outbox.db"),
                ["Identities:Lifetime"] = "1.00:00:00",
                ["Identities:Capacity"] = "5",
            });
            var options = app.Services.GetRequiredService<IOptions<MetaConversionsOptions>>().Value;
            Assert.Equal((TimeSpan.FromDays(1), 5), (options.Identities.Lifetime, options.Identities.Capacity));

            var store = app.Services.GetRequiredService<IKeptRecords<CapturedIdentity>>();
            var now = DateTimeOffset.UtcNow;
            await store.SaveAsync("order-1", new CapturedIdentity(true, "fb.1.1.abc", null, null, null, null, new Dictionary<string, string[]>(), now), now.AddDays(1), default);
            Assert.Equal("fb.1.1.abc", (await store.TakeAsync("order-1", now, default))?.ClickId);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Settings_bind_from_the_section_and_environment_style_keys()
    {
        await using var app = await StartWithConfigurationAsync(new()
        {
            ["PixelId"] = "987654321",
            ["TestEventCode"] = "TEST42",
            ["CookieDomain"] = "example.com",
            ["BatchSize"] = "250",
            ["FlushInterval"] = "00:00:00.5",
            ["Outbox:Provider"] = "SQLite",
            ["Outbox:Path"] = Path.Combine(Path.GetTempPath(), $"capi-options-{Guid.NewGuid():N}", "outbox.db"),
            ["Outbox:LeaseTimeout"] = "00:00:30",
            ["Outbox:EnqueueBudget"] = "00:00:00.120",
        });
        var options = app.Services.GetRequiredService<IOptions<MetaConversionsOptions>>().Value;
        Assert.Equal(("987654321", "TEST42", "example.com", 250, TimeSpan.FromMilliseconds(500)),
            (options.PixelId, options.TestEventCode, options.CookieDomain, options.BatchSize, options.FlushInterval));
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(120)), (options.Outbox.LeaseTimeout, options.Outbox.EnqueueBudget));
        var store = Assert.IsType<FallbackOutboxStore>(app.Services.GetRequiredService<IOutboxStore>());
        Assert.IsType<SqliteOutboxStore>(store.Store);
        Assert.True(store.IsDurable);
        await app.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(options.Outbox.Path)!, recursive: true);
    }

    [Theory]
    [InlineData("sqlite", "Path", "/var/lib/shop/outbox.db", "add the package CapiMiddleware.Outbox.Sqlite and call builder.Services.AddSqliteOutbox()")]
    [InlineData("redis", "Redis", "redis.internal:6379", "add the package CapiMiddleware.Outbox.Redis and call builder.Services.AddRedisOutbox()")]
    public async Task A_durable_store_whose_package_is_not_registered_stops_the_app_saying_which_package_and_call(
        string provider, string setting, string value, string told)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(
            new() { ["Outbox:Provider"] = provider, ["Outbox:" + setting] = value }, stores: _ => { }));

        Assert.Contains($"MetaConversions:Outbox:Provider is {provider}, but", error.Message);
        Assert.Contains(told, error.Message);
    }

    [Fact]
    public async Task A_fallback_file_without_the_sqlite_package_stops_the_app_saying_so()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(
            new() { ["Outbox:Provider"] = "redis", ["Outbox:Redis"] = "redis.internal:6379", ["Outbox:FallbackPath"] = "/var/lib/shop/fallback.db" },
            stores: s => s.AddRedisOutbox()));

        Assert.Contains("MetaConversions:Outbox:FallbackPath is an SQLite file, but the SQLite store is not registered", error.Message);
        Assert.Contains("AddSqliteOutbox()", error.Message);
    }

    [Fact]
    public async Task A_store_of_the_applications_own_and_a_durable_provider_in_the_configuration_are_refused_together()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(
            new() { ["Outbox:Provider"] = "sqlite", ["Outbox:Path"] = "/var/lib/shop/outbox.db" },
            stores: s => s.AddSqliteOutbox().AddOutboxStore<ListOutboxStore>()));

        Assert.Contains("MetaConversions:Outbox:Provider is sqlite, but the application registers a store of its own (AddOutboxStore)", error.Message);
    }

    [Fact]
    public async Task A_durable_store_of_the_applications_own_gets_the_fallback_and_the_staleness_rule()
    {
        await using var app = await StartWithConfigurationAsync([], stores: s => s.AddOutboxStore(_ => new ListOutboxStore(TimeProvider.System, durable: true)));

        var store = Assert.IsType<FallbackOutboxStore>(app.Services.GetRequiredService<IOutboxStore>());
        Assert.IsType<AgeCheckedOutboxStore>(store.Store);
        Assert.True(store.IsDurable);
        Assert.IsType<MemoryKeptRecords<CapturedIdentity>>(app.Services.GetRequiredService<IKeptRecords<CapturedIdentity>>());

        // An entry grown too old in the store is dead-lettered through it when leased, never handed to the sender.
        var old = DateTimeOffset.UtcNow.AddDays(-8);
        await store.EnqueueAsync(new OutboxEntry
        {
            PixelId = "1234567890", EventName = "Purchase", EventId = "old", EventTime = old.ToUnixTimeSeconds(),
            ActionSource = "website", Payload = "{}"u8.ToArray(), EnqueuedAt = old,
        }, default);
        // The app's sender leases too: whichever lease takes the entry, it comes back empty, and the dead letter
        // appears once that lease has finished dropping it.
        Assert.Empty(await store.LeaseAsync(10, TimeSpan.Zero, default));
        await Eventually.TrueAsync(async () => (await store.GetRecentDeadLettersAsync(10, default)).Count > 0, "the old entry is dead-lettered");
        Assert.Equal("old", Assert.Single(await store.GetRecentDeadLettersAsync(10, default)).EventId);
        Assert.Equal(0, await store.CountAsync(default));
    }

    [Fact]
    public async Task A_store_of_the_applications_own_is_created_with_its_services_and_used_as_it_is_when_not_durable()
    {
        await using var app = await StartWithConfigurationAsync([], stores: s => s.AddOutboxStore<ListOutboxStore>());

        var store = Assert.IsType<AgeCheckedOutboxStore>(app.Services.GetRequiredService<IOutboxStore>());
        Assert.False(store.IsDurable);
    }

    [Fact]
    public void Forgetting_AddMetaConversions_is_explained()
    {
        var app = WebApplication.CreateSlimBuilder().Build();
        var error = Assert.Throws<InvalidOperationException>(() => app.UseMetaConversions());
        Assert.Contains("AddMetaConversions", error.Message);
    }

    private static async Task<WebApplication> StartWithConfigurationAsync(Dictionary<string, string?> settings, Action<IServiceCollection>? stores = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear(); // only these settings, not the appsettings.json beside the tests
        builder.Configuration.AddInMemoryCollection(settings.ToDictionary(kv => "MetaConversions:" + kv.Key, kv => kv.Value));
        builder.WebHost.UseUrls("http://127.0.0.1:0"); // after clearing the sources, which would drop it (and bind port 5000)
        builder.Services.AddMetaConversions(builder.Configuration.GetSection("MetaConversions"));
        (stores ?? (s => s.AddSqliteOutbox().AddRedisOutbox())).Invoke(builder.Services);
        var app = builder.Build();
        app.UseMetaConversions();
        try
        {
            await app.StartAsync();
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }
}
