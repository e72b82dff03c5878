using System.Net;
using System.Text.Json;
using CapiMiddleware.Context;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Context;

/// <summary>
/// Consent and crawlers on a real app: ASP.NET Core's CookiePolicy middleware with <c>CheckConsentNeeded</c>, the
/// <see cref="MetaConversionsOptions.ConsentResolver"/> callback, and the crawler list. Without consent or for a
/// crawler: no <c>_fbc</c>/<c>_fbp</c>, no server event, no Pixel event, and the page tells the snippet.
/// </summary>
public sealed class TrackingConsentTests
{
    private const string ConsentCookie = ".AspNet.Consent=yes";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Under_cookie_policy_without_consent_nothing_is_set_sent_or_handed_to_the_pixel()
    {
        await using var app = await StartWithCookiePolicyAsync();

        var landing = await SendAsync(app, HttpMethod.Get, "/page?fbclid=AbC-123_xyz");
        Assert.Empty(landing.MetaCookies);
        Assert.False(landing.PageData.GetProperty("consent").GetBoolean());
        Assert.False(landing.PageData.TryGetProperty("crawler", out _));

        var lead = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view");
        Assert.Empty(lead.PageData.GetProperty("events").EnumerateArray());
        var redirect = await SendAsync(app, HttpMethod.Post, "/lead?outcome=redirect", html: false);
        Assert.DoesNotContain(redirect.SetCookies, c => c.StartsWith("_capi_px=", StringComparison.Ordinal));
        Assert.Contains(app.Logs.WithEventId(71), l => l.Message.Contains("not consented", StringComparison.Ordinal));

        // One consenting visitor's lead, queued after the others: it arrives, and it alone.
        var consented = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view", cookie: ConsentCookie);
        var pixel = Assert.Single(consented.PageData.GetProperty("events").EnumerateArray());
        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(pixel.GetProperty("eventId").GetString(), sent.GetProperty("event_id").GetString());
        Assert.Single(app.Graph.AcceptedEvents);
    }

    [Fact]
    public async Task Under_cookie_policy_with_consent_cookies_and_events_flow()
    {
        await using var app = await StartWithCookiePolicyAsync();

        var landing = await SendAsync(app, HttpMethod.Get, "/page?fbclid=AbC-123_xyz", cookie: ConsentCookie);
        Assert.Equal(["_fbc", "_fbp"], landing.MetaCookies.Keys.Order());
        Assert.True(landing.PageData.GetProperty("consent").GetBoolean());

        var cookies = $"{ConsentCookie}; _fbc={landing.MetaCookies["_fbc"]}; _fbp={landing.MetaCookies["_fbp"]}";
        var lead = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view", cookie: cookies);
        Assert.Single(lead.PageData.GetProperty("events").EnumerateArray());
        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(landing.MetaCookies["_fbc"], sent.GetProperty("user_data").GetProperty("fbc").GetString());
    }

    [Fact]
    public async Task The_consent_resolver_decides_over_cookie_policy_and_hands_back_when_it_has_no_answer()
    {
        await using var app = await StartWithCookiePolicyAsync(o => o.ConsentResolver = http => http.Request.Headers["X-Consent"].ToString() switch
        {
            "yes" => true,
            "no" => false,
            _ => null,
        });

        // Granted by the resolver, unknown to CookiePolicy: the cookies are still set (CookiePolicy must not drop them).
        var granted = await SendAsync(app, HttpMethod.Get, "/page?fbclid=AbC-123_xyz", headers: new() { ["X-Consent"] = "yes" });
        Assert.Equal(["_fbc", "_fbp"], granted.MetaCookies.Keys.Order());
        Assert.True(granted.PageData.GetProperty("consent").GetBoolean());

        // Refused by the resolver although CookiePolicy has consent.
        var refused = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view", cookie: ConsentCookie, headers: new() { ["X-Consent"] = "no" });
        Assert.Empty(refused.PageData.GetProperty("events").EnumerateArray());
        Assert.False(refused.PageData.GetProperty("consent").GetBoolean());

        // No answer: CookiePolicy decides, one way and the other.
        var noAnswerNoConsent = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view");
        Assert.Empty(noAnswerNoConsent.PageData.GetProperty("events").EnumerateArray());
        var noAnswerConsent = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view", cookie: ConsentCookie);
        var pixel = Assert.Single(noAnswerConsent.PageData.GetProperty("events").EnumerateArray());

        var yes = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view", headers: new() { ["X-Consent"] = "yes" });
        var last = Assert.Single(yes.PageData.GetProperty("events").EnumerateArray());
        var sent = await app.Graph!.WaitForEventsAsync(2, Wait);
        Assert.Equal(
            new[] { pixel.GetProperty("eventId").GetString(), last.GetProperty("eventId").GetString() },
            sent.Select(e => e.GetProperty("event_id").GetString()));
    }

    [Fact]
    public async Task A_throwing_resolver_is_logged_once_and_the_request_goes_on_as_if_it_had_no_answer()
    {
        await using var app = await StartWithCookiePolicyAsync(o => o.ConsentResolver = _ => throw new InvalidOperationException("consent platform down"));

        for (var i = 0; i < 3; i++)
        {
            var lead = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view", cookie: ConsentCookie);
            Assert.Single(lead.PageData.GetProperty("events").EnumerateArray());
        }

        var refused = await SendAsync(app, HttpMethod.Get, "/page?fbclid=AbC-123_xyz");
        Assert.Empty(refused.MetaCookies);

        Assert.Equal(3, (await app.Graph!.WaitForEventsAsync(3, Wait)).Count);
        var logged = Assert.Single(app.Logs.WithEventId(70));
        Assert.Contains("consent platform down", logged.Exception, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")]
    [InlineData("meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)")]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")]
    [InlineData("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")]
    [InlineData("FACEBOOKEXTERNALHIT/1.1")]
    public async Task Crawlers_get_no_cookies_send_no_events_and_their_page_says_crawler(string userAgent)
    {
        await using var app = await TestApp.StartAsync();

        var landing = await SendAsync(app, HttpMethod.Get, "/page?fbclid=AbC-123_xyz", userAgent: userAgent);
        Assert.Empty(landing.MetaCookies);
        Assert.True(landing.PageData.GetProperty("crawler").GetBoolean());
        Assert.False(landing.PageData.GetProperty("consent").GetBoolean());

        var lead = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view", userAgent: userAgent);
        Assert.Empty(lead.PageData.GetProperty("events").EnumerateArray());
        Assert.Contains(app.Logs.WithEventId(71), l => l.Message.Contains("crawler", StringComparison.Ordinal));

        var person = await SendAsync(app, HttpMethod.Post, "/lead?outcome=view");
        var pixel = Assert.Single(person.PageData.GetProperty("events").EnumerateArray());
        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(pixel.GetProperty("eventId").GetString(), sent.GetProperty("event_id").GetString());
        Assert.Single(app.Graph.AcceptedEvents);
    }

    [Theory]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0]")] // Facebook's in-app browser
    [InlineData("Mozilla/5.0 (Linux; Android 14; CUBOT P80) Chrome/120.0 Mobile Safari/537.36")] // "bot" in a phone's name
    public async Task People_whose_user_agent_merely_resembles_a_crawler_are_tracked(string userAgent)
    {
        await using var app = await TestApp.StartAsync();

        var landing = await SendAsync(app, HttpMethod.Get, "/page?fbclid=AbC-123_xyz", userAgent: userAgent);

        Assert.Equal(["_fbc", "_fbp"], landing.MetaCookies.Keys.Order());
        Assert.True(landing.PageData.GetProperty("consent").GetBoolean());
    }

    [Fact]
    public async Task A_configured_crawler_list_replaces_the_built_in_one()
    {
        await using var app = await TestApp.StartAsync(o => o.CrawlerUserAgents = ["UptimeMonitor"]);

        var monitor = await SendAsync(app, HttpMethod.Get, "/page?fbclid=AbC-123_xyz", userAgent: "uptimemonitor/2.0");
        Assert.Empty(monitor.MetaCookies);
        Assert.True(monitor.PageData.GetProperty("crawler").GetBoolean());

        var meta = await SendAsync(app, HttpMethod.Get, "/page?fbclid=AbC-123_xyz", userAgent: "facebookexternalhit/1.1");
        Assert.Equal(["_fbc", "_fbp"], meta.MetaCookies.Keys.Order());
    }

    [Fact]
    public void The_crawler_list_is_rebuilt_when_the_configuration_changes()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection().Build();
        using var services = new ServiceCollection().AddLogging()
            .AddMetaConversions(configuration.GetSection(MetaConversionsOptions.SectionName))
            .BuildServiceProvider();
        var consent = services.GetRequiredService<TrackingConsent>();
        var request = new DefaultHttpContext();
        request.Request.Headers.UserAgent = "UptimeMonitor/2.0";
        var meta = new DefaultHttpContext();
        meta.Request.Headers.UserAgent = "facebookexternalhit/1.1";

        Assert.Equal(TrackingDecision.Allowed, consent.Decide(request));
        Assert.Equal(TrackingDecision.Crawler, consent.Decide(meta));

        configuration["MetaConversions:CrawlerUserAgents:0"] = "UptimeMonitor";
        configuration.Reload();

        Assert.Equal(TrackingDecision.Crawler, consent.Decide(request));
        Assert.Equal(TrackingDecision.Allowed, consent.Decide(meta));
    }

    private static Task<TestApp> StartWithCookiePolicyAsync(Action<MetaConversionsOptions>? configure = null) =>
        TestApp.StartAsync(
            configure,
            services: s => s.Configure<CookiePolicyOptions>(o => o.CheckConsentNeeded = _ => true),
            beforeLibrary: app => app.UseCookiePolicy());

    private static async Task<Answer> SendAsync(
        TestApp app,
        HttpMethod method,
        string path,
        string? cookie = null,
        string? userAgent = null,
        Dictionary<string, string>? headers = null,
        bool html = true)
    {
        using var client = app.CreateClient(); // no cookie jar: each request says exactly what it carries
        using var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
        {
            request.Content = new FormUrlEncodedContent([new("email", "someone@example.com")]);
        }

        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        if (userAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        }

        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Redirect, response.StatusCode.ToString());
        var setCookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
        var meta = setCookies.Select(c => c.Split(';')[0].Split('=', 2))
            .Where(p => p[0] is "_fbc" or "_fbp")
            .ToDictionary(p => p[0], p => p[1]);
        var body = await response.Content.ReadAsStringAsync();
        return new Answer(setCookies, meta, html ? PageData.Read(body) : default);
    }

    private sealed record Answer(string[] SetCookies, Dictionary<string, string> MetaCookies, JsonElement PageData);
}
