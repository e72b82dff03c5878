using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Diagnostics;

/// <summary>The snippet's beacon and the counts it feeds: page views with the Pixel blocked, events sent by both sides or the server only.</summary>
public sealed class PixelReachTests
{
    private static Task<HttpResponseMessage> BeaconAsync(TestApp app, string body, string? site = "same-origin")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/_capi/beacon")
        {
            Content = new StringContent(body, Encoding.UTF8, "text/plain"),
        };
        if (site is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", site);
        }

        return app.Client.SendAsync(request);
    }

    private static async Task<string> PurchaseAsync(TestApp app, string orderId)
    {
        using var response = await app.Client.PostAsync($"/purchase?orderId={orderId}", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task A_blocked_page_marks_its_server_events_server_only_once_and_an_unblocked_one_marks_them_both()
    {
        await using var app = await TestApp.StartAsync();
        var reach = app.Services.GetRequiredService<PixelReach>();
        using var copies = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), MetaConversionsDiagnostics.MeterName, "capimiddleware.events.browser_copy");
        using var views = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), MetaConversionsDiagnostics.MeterName, "capimiddleware.pixel.page_views");

        var html = await PurchaseAsync(app, "ord-1");
        Assert.Equal("/_capi/beacon", PageData.Read(html).GetProperty("beacon").GetString());
        await PurchaseAsync(app, "ord-2");

        Assert.Equal(HttpStatusCode.NoContent, (await BeaconAsync(app, """{"v":1,"blocked":true,"ids":["ord-1","never-sent"]}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await BeaconAsync(app, """{"v":1,"blocked":false,"ids":["ord-1","ord-2"]}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await BeaconAsync(app, """{"v":1,"blocked":false,"ids":[]}""")).StatusCode);

        var summary = reach.Snapshot();
        Assert.Equal(3, summary.PageViews);
        Assert.Equal(1, summary.PixelBlocked);
        Assert.Equal(new EventReach(Both: 1, ServerOnly: 1), Assert.Single(summary.Events, e => e.Key == "Purchase").Value);
        Assert.Equal(PixelReach.Side.ServerOnly, reach.SideOf("ord-1"));
        Assert.Equal(PixelReach.Side.Both, reach.SideOf("ord-2"));

        Assert.Equal(3, views.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, views.GetMeasurementSnapshot().Where(m => (bool?)m.Tags["pixel.blocked"] == true).Sum(m => m.Value));
        Assert.Equal(
            ["both", "server_only"],
            copies.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!).Order());
        Assert.All(copies.GetMeasurementSnapshot(), m => Assert.Equal("Purchase", m.Tags["event_name"]));
    }

    [Fact]
    public async Task An_event_the_browser_started_is_counted_too()
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=json");
        request.Headers.Add("X-Meta-Event-Id", "browser-made-1");
        (await app.Client.SendAsync(request)).EnsureSuccessStatusCode();

        await BeaconAsync(app, """{"v":1,"blocked":true,"ids":["browser-made-1"]}""");
        Assert.True(app.Services.GetRequiredService<PixelReach>().Snapshot().Events.TryGetValue("Lead", out var lead), app.Logs.AllText);
        Assert.Equal(1, lead.ServerOnly);
    }

    public static TheoryData<string, string> BadBeacons => new()
    {
        { "not JSON", "blocked=1" },
        { "an array", """[{"blocked":true}]""" },
        { "no blocked", """{"v":1,"ids":["ord-1"]}""" },
        { "blocked as a string", """{"v":1,"blocked":"yes","ids":[]}""" },
        { "ids not an array", """{"v":1,"blocked":true,"ids":"ord-1"}""" },
        { "an id with markup", """{"v":1,"blocked":true,"ids":["<script>"]}""" },
        { "an id too long", "{\"v\":1,\"blocked\":true,\"ids\":[\"" + new string('a', 65) + "\"]}" },
        { "an id that is a number", """{"v":1,"blocked":true,"ids":[5]}""" },
        { "nested", """{"v":{"x":1},"blocked":true,"ids":[]}""" },
        { "trailing data", """{"v":1,"blocked":true,"ids":[]}{}""" },
        { "51 ids", "{\"v\":1,\"blocked\":true,\"ids\":[" + string.Join(",", Enumerable.Range(0, 51).Select(i => $"\"id{i}\"")) + "]}" },
        { "empty", "" },
    };

    [Theory]
    [MemberData(nameof(BadBeacons))]
    public async Task A_malformed_beacon_is_refused_and_counts_nothing(string what, string body)
    {
        await using var app = await TestApp.StartAsync();
        await PurchaseAsync(app, "ord-1");

        using var response = await BeaconAsync(app, body);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, what);
        var summary = app.Services.GetRequiredService<PixelReach>().Snapshot();
        Assert.Equal((0, 0, 0), (summary.PageViews, summary.PixelBlocked, summary.Events.Count));
    }

    [Fact]
    public async Task Big_cross_site_or_non_POST_beacons_are_refused()
    {
        await using var app = await TestApp.StartAsync();
        var big = "{\"v\":1,\"blocked\":true,\"pad\":\"" + new string('x', 3000) + "\",\"ids\":[]}";

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await BeaconAsync(app, big)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await BeaconAsync(app, """{"blocked":true}""", site: "cross-site")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await app.Client.GetAsync("/_capi/beacon")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await BeaconAsync(app, """{"blocked":true}""", site: null)).StatusCode);
        Assert.Equal(1, app.Services.GetRequiredService<PixelReach>().Snapshot().PageViews);
    }

    [Fact]
    public async Task A_client_gets_thirty_beacons_a_minute()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(services: s => s.AddSingleton<TimeProvider>(time));

        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(HttpStatusCode.NoContent, (await BeaconAsync(app, """{"blocked":false}""")).StatusCode);
        }

        using var refused = await BeaconAsync(app, """{"blocked":false}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), refused.Headers.RetryAfter?.Delta);

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.NoContent, (await BeaconAsync(app, """{"blocked":false}""")).StatusCode);
        Assert.Equal(31, app.Services.GetRequiredService<PixelReach>().Snapshot().PageViews);
    }

    [Fact]
    public async Task Turned_off_there_is_no_endpoint_and_no_beacon_in_the_page()
    {
        await using var app = await TestApp.StartAsync(o => o.ReportPixelBlocking = false);
        var html = await PurchaseAsync(app, "ord-1");

        Assert.False(PageData.Read(html).TryGetProperty("beacon", out var beacon) && beacon.ValueKind != System.Text.Json.JsonValueKind.Null);
        Assert.Equal(HttpStatusCode.NotFound, (await BeaconAsync(app, """{"blocked":true}""")).StatusCode);
    }

    [Fact]
    public void Memory_is_bounded_the_oldest_event_ids_are_forgotten_first()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var reach = new PixelReach(services.GetRequiredService<IMeterFactory>());
        for (var i = 0; i <= PixelReach.MaxTrackedEvents; i++)
        {
            reach.Expect($"id-{i}", "Purchase");
        }

        reach.Observe(pixelBlocked: true, ["id-0", "id-1", $"id-{PixelReach.MaxTrackedEvents}"]);
        Assert.Equal(2, reach.Snapshot().Events["Purchase"].ServerOnly);
        Assert.Equal(PixelReach.Side.Unknown, reach.SideOf("id-0"));

        for (var i = 0; i < PixelReach.MaxEventNames + 5; i++)
        {
            reach.Expect($"name-{i}", $"Custom{i}");
        }

        reach.Observe(pixelBlocked: false, [.. Enumerable.Range(0, 50).Select(i => $"name-{i}")]);
        reach.Observe(pixelBlocked: false, [.. Enumerable.Range(50, PixelReach.MaxEventNames - 45).Select(i => $"name-{i}")]);
        var events = reach.Snapshot().Events;
        Assert.Equal(PixelReach.MaxEventNames + 1, events.Count);
        Assert.Equal(6, events[PixelReach.OtherEventNames].Both);
    }
}
