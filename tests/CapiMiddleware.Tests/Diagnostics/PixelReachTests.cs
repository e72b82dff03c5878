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
        Assert.Equal(HttpStatusCode.NoContent, (await BeaconAsync(app, """{"blocked":true}""")).StatusCode);
        Assert.Equal(1, app.Services.GetRequiredService<PixelReach>().Snapshot().PageViews);
    }

    /// <summary>
    /// Who may report: <c>Sec-Fetch-Site</c> when a browser sends it (same-origin only); else the Origin, else the
    /// Referer, compared with the request's own scheme, host and port ("{own}" is the app's address); else nobody.
    /// </summary>
    public static TheoryData<string, string?, string?, string?, HttpStatusCode> BeaconSenders => new()
    {
        { "Sec-Fetch-Site: same-origin", "same-origin", null, null, HttpStatusCode.NoContent },
        { "same-origin, whatever Origin says", "same-origin", "https://elsewhere.example", null, HttpStatusCode.NoContent },
        { "no Sec-Fetch-Site, own Origin", null, "{own}", null, HttpStatusCode.NoContent },
        { "no Sec-Fetch-Site, own Referer", null, null, "{own}/products/1?fbclid=x", HttpStatusCode.NoContent },
        { "no Sec-Fetch-Site, foreign Origin", null, "https://attacker.example", null, HttpStatusCode.Forbidden },
        { "no Sec-Fetch-Site, own host on another port", null, "http://127.0.0.1:1", null, HttpStatusCode.Forbidden },
        { "no Sec-Fetch-Site, own host over https on another port", null, "https://127.0.0.1", null, HttpStatusCode.Forbidden },
        { "no Sec-Fetch-Site, Origin null", null, "null", null, HttpStatusCode.Forbidden },
        { "no Sec-Fetch-Site, foreign Origin beats own Referer", null, "https://attacker.example", "{own}/", HttpStatusCode.Forbidden },
        { "no Sec-Fetch-Site, foreign Referer", null, null, "https://attacker.example/page", HttpStatusCode.Forbidden },
        { "no Sec-Fetch-Site, a relative Referer", null, null, "/products/1", HttpStatusCode.Forbidden },
        { "neither Origin nor Referer", null, null, null, HttpStatusCode.Forbidden },
        { "Sec-Fetch-Site: same-site", "same-site", "{own}", null, HttpStatusCode.Forbidden },
        { "Sec-Fetch-Site: cross-site", "cross-site", "{own}", null, HttpStatusCode.Forbidden },
        { "Sec-Fetch-Site: none", "none", null, null, HttpStatusCode.Forbidden },
    };

    [Theory]
    [MemberData(nameof(BeaconSenders))]
    public async Task Only_a_page_of_the_site_s_own_origin_may_send_a_beacon(string what, string? site, string? origin, string? referer, HttpStatusCode expected)
    {
        await using var app = await TestApp.StartAsync();
        await PurchaseAsync(app, "ord-1");
        var own = app.BaseUrl.GetLeftPart(UriPartial.Authority);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/_capi/beacon")
        {
            Content = new StringContent("""{"v":1,"blocked":true,"ids":["ord-1"]}""", Encoding.UTF8, "text/plain"),
        };
        if (site is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", site);
        }

        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin.Replace("{own}", own, StringComparison.Ordinal));
        }

        if (referer is not null)
        {
            request.Headers.TryAddWithoutValidation("Referer", referer.Replace("{own}", own, StringComparison.Ordinal));
        }

        using var response = await app.Client.SendAsync(request);

        Assert.True(expected == response.StatusCode, $"{what}: {(int)response.StatusCode}, expected {(int)expected}");
        var reach = app.Services.GetRequiredService<PixelReach>();
        var counted = expected == HttpStatusCode.NoContent;
        Assert.Equal(counted ? 1 : 0, reach.Snapshot().PageViews);
        Assert.Equal(counted ? PixelReach.Side.ServerOnly : PixelReach.Side.Unknown, reach.SideOf("ord-1"));
    }

    [Theory]
    [InlineData("https", "shop.example", "https://shop.example", true)]
    [InlineData("https", "Shop.Example", "https://shop.example/", true)]
    [InlineData("http", "shop.example", "https://shop.example", true)] // TLS ended at a proxy that did not say so
    [InlineData("https", "shop.example", "http://shop.example", false)] // a page of the insecure origin
    [InlineData("http", "shop.example:8080", "https://shop.example", false)]
    [InlineData("https", "shop.example:8443", "https://shop.example:8443", true)]
    [InlineData("https", "shop.example", "https://www.shop.example", false)]
    [InlineData("https", "shop.example", "https://shop.example.attacker.example", false)]
    [InlineData("http", "[::1]:5000", "http://[::1]:5000", true)]
    [InlineData("http", "[::1]:5000", "http://[::1]:5001", false)]
    [InlineData("https", "shop.example", "ftp://shop.example", false)]
    public void The_origin_is_compared_with_the_host_and_scheme_the_app_sees(string scheme, string host, string origin, bool own)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Scheme = scheme;
        context.Request.Host = new Microsoft.AspNetCore.Http.HostString(host);
        context.Request.Headers.Origin = origin;

        Assert.Equal(own, CapiMiddleware.Serving.PixelBeacon.IsSameOrigin(context.Request));
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
