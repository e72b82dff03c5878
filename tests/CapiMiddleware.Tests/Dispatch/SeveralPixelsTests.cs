using System.Net;
using System.Text.Json;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Tests.Dispatch;

/// <summary>Events going to several pixels, each with its own token, chosen by the request's host or by the event.</summary>
public sealed class SeveralPixelsTests
{
    private const string Shared = "1234567890";
    private const string StoreA = "2222222222";
    private const string StoreB = "3333333333";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static class LogIds
    {
        public const int WouldSend = 5;
        public const int TokenProblem = 8;
    }

    private static FakeGraphApiOptions OwnTokens() => new()
    {
        PixelAccessTokens = new Dictionary<string, string> { [StoreA] = "token-a", [StoreB] = "token-b" },
    };

    private static void TwoStores(MetaConversionsOptions o)
    {
        o.Pixels.Add(new MetaPixelOptions { PixelId = StoreA, AccessToken = "token-a", Hosts = ["shop-a.test"] });
        o.Pixels.Add(new MetaPixelOptions { PixelId = StoreB, AccessToken = "token-b", TestEventCode = "TESTB1" });
    }

    [Fact]
    public async Task An_offline_event_goes_to_every_pixel_that_names_no_host_each_with_its_own_token()
    {
        await using var app = await TestApp.StartAsync(TwoStores, graphOptions: OwnTokens());
        Assert.True(await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1")));

        var requests = await app.Graph!.WaitForRequestsAsync(2, Wait);
        await app.WaitForOutboxEmptyAsync(); // nothing more may come: store A is for shop-a.test only
        Assert.Equal(2, app.Graph.Requests.Count);
        Assert.All(requests, r => Assert.Equal(200, r.StatusCode));
        var byPixel = requests.ToDictionary(r => r.PixelId!);
        Assert.Equal("Bearer test-token", byPixel[Shared].Headers["Authorization"]);
        Assert.Equal("Bearer token-b", byPixel[StoreB].Headers["Authorization"]);
        Assert.False(byPixel[Shared].Json!.Value.TryGetProperty("test_event_code", out _));
        Assert.Equal("TESTB1", byPixel[StoreB].Json!.Value.GetProperty("test_event_code").GetString());
        Assert.All(requests, r => Assert.Equal("ord-1", Assert.Single(r.Events).GetProperty("event_id").GetString()));
    }

    [Fact]
    public async Task A_request_to_a_storefront_host_reports_to_that_stores_pixel_and_its_page_initializes_the_same_pixels()
    {
        await using var app = await TestApp.StartAsync(TwoStores, graphOptions: OwnTokens());

        var html = await PostAsync(app, "/purchase?orderId=ord-a", host: "shop-a.test");
        Assert.Equal([Shared, StoreA, StoreB], PageData.Read(html).GetProperty("pixelIds").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(Shared, PageData.Read(html).GetProperty("pixelId").GetString());

        var requests = await app.Graph!.WaitForRequestsAsync(3, Wait);
        Assert.Equal([Shared, StoreA, StoreB], requests.Select(r => r.PixelId).Order());
        Assert.Equal("Bearer token-a", requests.Single(r => r.PixelId == StoreA).Headers["Authorization"]);
        Assert.All(requests, r => Assert.Equal(200, r.StatusCode));

        app.Graph.Reset();
        html = await PostAsync(app, "/purchase?orderId=ord-other", host: "shop-other.test");
        Assert.Equal([Shared, StoreB], PageData.Read(html).GetProperty("pixelIds").EnumerateArray().Select(p => p.GetString()));
        requests = await app.Graph.WaitForRequestsAsync(2, Wait);
        await app.WaitForOutboxEmptyAsync();
        Assert.Equal([Shared, StoreB], app.Graph.Requests.Select(r => r.PixelId).Order());
    }

    [Fact]
    public async Task An_event_sent_to_one_pixel_reaches_only_it_and_the_page_fires_it_with_trackSingle()
    {
        await using var app = await TestApp.StartAsync(TwoStores, graphOptions: OwnTokens());

        var html = await PostAsync(app, $"/purchase-to?orderId=ord-b&pixel={StoreB}", host: "shop-a.test");
        var pixelEvent = Assert.Single(PageData.Read(html).GetProperty("events").EnumerateArray());
        Assert.Equal([StoreB], pixelEvent.GetProperty("pixelIds").EnumerateArray().Select(p => p.GetString()));

        var request = Assert.Single(await app.Graph!.WaitForRequestsAsync(1, Wait));
        await app.WaitForOutboxEmptyAsync();
        Assert.Single(app.Graph.Requests);
        Assert.Equal(StoreB, request.PixelId);
        Assert.Equal("ord-b", Assert.Single(request.Events).GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task An_event_naming_a_pixel_that_is_not_configured_is_not_queued_and_the_log_says_why()
    {
        await using var app = await TestApp.StartAsync(TwoStores, graphOptions: OwnTokens());
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        Assert.False(await queue.EnqueueAsync(SampleEvents.Purchase("ord-x") with { PixelIds = ["999"] }));
        Assert.Contains(app.Logs.Lines, e => e.Message.Contains("pixel '999', which is not configured", StringComparison.Ordinal));

        var html = await PostAsync(app, "/purchase-to?orderId=ord-y&pixel=999", host: "shop-a.test");
        Assert.Empty(PageData.Read(html).GetProperty("events").EnumerateArray());
        Assert.Empty(app.Graph!.Requests);
    }

    [Fact]
    public async Task A_refused_token_holds_back_only_its_own_pixel()
    {
        await using var app = await TestApp.StartAsync(
            TwoStores,
            graphOptions: new FakeGraphApiOptions { PixelAccessTokens = new Dictionary<string, string> { [StoreB] = "the-real-token-b" } });

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-2"));

        var accepted = await app.Graph!.WaitForEventsAsync(2, Wait);
        Assert.Equal(["ord-1", "ord-2"], accepted.Select(e => e.GetProperty("event_id").GetString()).Order());
        await Eventually.TrueAsync(() => app.Logs.WithEventId(LogIds.TokenProblem).Any(), "the token problem is logged", Wait);
        var problem = app.Logs.WithEventId(LogIds.TokenProblem).First().Message;
        Assert.Contains($"pixel {StoreB}", problem);
        Assert.Contains("MetaConversions:Pixels:1:AccessToken", problem);
        Assert.DoesNotContain("token-b", problem);
        Assert.All(app.Graph.Requests.Where(r => r.PixelId == Shared), r => Assert.Equal(200, r.StatusCode));
    }

    [Fact]
    public async Task A_pixel_without_any_token_is_shown_in_the_log_while_the_others_are_sent()
    {
        await using var app = await TestApp.StartAsync(o =>
        {
            o.AccessToken = null;
            o.PixelId = null;
            o.Pixels.Add(new MetaPixelOptions { PixelId = StoreA });
            o.Pixels.Add(new MetaPixelOptions { PixelId = StoreB, AccessToken = "token-b" });
        }, graphOptions: OwnTokens());

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        var request = Assert.Single(await app.Graph!.WaitForRequestsAsync(1, Wait));
        Assert.Equal(StoreB, request.PixelId);
        await Eventually.TrueAsync(() => app.Logs.WithEventId(LogIds.WouldSend).Any(), "the event is shown", Wait);
        var shown = app.Logs.WithEventId(LogIds.WouldSend).Single().Message;
        Assert.Contains($"/{StoreA}/events", shown);
        Assert.Contains("no MetaConversions:AccessToken set", shown);
    }

    [Fact]
    public async Task The_request_context_lists_the_pixels_of_its_host()
    {
        await using var app = await TestApp.StartAsync(TwoStores, graphOptions: OwnTokens(), endpoints: e =>
            e.MapGet("/pixels", (Microsoft.AspNetCore.Http.HttpContext c) => string.Join(",", c.GetMetaRequestContext().PixelIds)));

        using var a = new HttpRequestMessage(HttpMethod.Get, "/pixels") { Headers = { Host = "SHOP-A.test:8080" } };
        Assert.Equal($"{Shared},{StoreA},{StoreB}", await (await app.Client.SendAsync(a)).Content.ReadAsStringAsync());
        Assert.Equal($"{Shared},{StoreB}", await app.Client.GetStringAsync("/pixels"));
    }

    [Theory]
    [InlineData("Pixels:0:PixelId", "pixel-a", "MetaConversions:Pixels:0:PixelId must be the numeric ID")]
    [InlineData("Pixels:0:PixelId", "1234567890", "MetaConversions:Pixels:0:PixelId 1234567890 is configured twice")]
    [InlineData("Pixels:0:Hosts:0", "https://shop.example.com/", "MetaConversions:Pixels:0:Hosts:0 must be a host name")]
    [InlineData("Pixels:0:AccessToken", "two words", "MetaConversions:Pixels:0:AccessToken contains white space")]
    [InlineData("Pixels:0:TestEventCode", "TEST 1", "MetaConversions:Pixels:0:TestEventCode must be the code")]
    public void A_bad_pixel_entry_stops_the_start_naming_the_setting(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["PixelId"] = Shared,
            ["Pixels:0:PixelId"] = StoreA,
            [key] = value,
        };
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(settings));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("two words", error.Message);
    }

    [Fact]
    public void A_token_with_only_a_pixels_list_is_valid_and_binds_from_configuration()
    {
        var options = Resolve(new Dictionary<string, string?>
        {
            ["AccessToken"] = "shared",
            ["Pixels:0:PixelId"] = StoreA,
            ["Pixels:0:Hosts:0"] = "shop-a.test",
            ["Pixels:1:PixelId"] = StoreB,
            ["Pixels:1:AccessToken"] = "token-b",
        });
        Assert.Equal([StoreA, StoreB], options.Pixels.Select(p => p.PixelId));
        Assert.Equal(["shop-a.test"], options.Pixels[0].Hosts);
        Assert.Equal("token-b", options.Pixels[1].AccessToken);
    }

    [Fact]
    public void A_token_on_one_pixel_alone_means_events_are_sent_not_shown()
    {
        var shownOnly = Resolve(new Dictionary<string, string?> { ["Pixels:0:PixelId"] = StoreA });
        var oneToken = Resolve(new Dictionary<string, string?> { ["Pixels:0:PixelId"] = StoreA, ["Pixels:1:PixelId"] = StoreB, ["Pixels:1:AccessToken"] = "token-b" });

        Assert.False(shownOnly.SendsToMeta);
        Assert.True(oneToken.SendsToMeta); // what the health check and the inspector report
    }

    private static MetaConversionsOptions Resolve(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddMetaConversions(configuration).BuildServiceProvider();
        return services.GetRequiredService<IOptions<MetaConversionsOptions>>().Value;
    }

    private static async Task<string> PostAsync(TestApp app, string path, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Headers = { Host = host } };
        using var response = await app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
