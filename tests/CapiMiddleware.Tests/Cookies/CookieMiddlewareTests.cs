using System.Net;
using System.Text.RegularExpressions;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Cookies;

/// <summary>The cookie rules as a browser sees them: real requests to Kestrel, real Set-Cookie headers.</summary>
public sealed class CookieMiddlewareTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(sendToGraph: false);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_click_from_an_ad_sets_fbc_and_fbp_with_Meta_formats_and_attributes()
    {
        var cookies = await GetSetCookiesAsync("/page?fbclid=AbC-123_xyz");

        Assert.Matches(@"^_fbc=fb\.0\.\d{13}\.AbC-123_xyz; max-age=7776000; path=/; samesite=lax$", cookies["_fbc"]);
        Assert.Matches(@"^_fbp=fb\.0\.\d{13}\.\d+; max-age=7776000; path=/; samesite=lax$", cookies["_fbp"]);
        Assert.DoesNotContain("httponly", cookies["_fbc"], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookies["_fbc"], StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Existing_cookies_with_the_same_click_id_are_kept_untouched()
    {
        var cookies = await GetSetCookiesAsync("/page?fbclid=AbC", "_fbc=fb.1.1700000000000.AbC; _fbp=fb.1.1700000000000.99");
        Assert.Empty(cookies);
    }

    [Fact]
    public async Task A_new_click_id_replaces_fbc_and_keeps_fbp()
    {
        var cookies = await GetSetCookiesAsync("/page?fbclid=New", "_fbc=fb.1.1700000000000.Old; _fbp=fb.1.1700000000000.99");
        Assert.Matches(@"^_fbc=fb\.0\.\d{13}\.New;", cookies["_fbc"]);
        Assert.False(cookies.ContainsKey("_fbp"));
    }

    [Fact]
    public async Task Five_segment_cookies_written_by_Meta_are_accepted_as_they_are()
    {
        var cookies = await GetSetCookiesAsync("/page?fbclid=IwAR2", "_fbc=fb.1.1700000000000.IwAR2.AQQCAQMC; _fbp=fb.1.1700000000000.99.AQQCAQMC");
        Assert.Empty(cookies);
    }

    [Fact]
    public async Task A_malformed_fbp_is_replaced_and_never_breaks_the_request()
    {
        var cookies = await GetSetCookiesAsync("/page", "_fbp=fb.1.x.<script>; _fbc=" + new string('a', 5000));
        Assert.Matches(@"^_fbp=fb\.0\.\d{13}\.\d+;", cookies["_fbp"]);
        Assert.False(cookies.ContainsKey("_fbc"));
    }

    [Theory]
    [InlineData("/page?fbclid=")]
    [InlineData("/page?fbclid=a.b")]
    [InlineData("/page?fbclid=%3Cscript%3E")]
    [InlineData("/page?fbclid=a%0D%0ASet-Cookie:%20evil=1")]
    public async Task Click_ids_that_are_not_Meta_s_are_ignored(string path)
    {
        var cookies = await GetSetCookiesAsync(path, "_fbp=fb.1.1700000000000.99");
        Assert.Empty(cookies);
    }

    [Fact]
    public async Task An_overlong_click_id_is_ignored()
    {
        var cookies = await GetSetCookiesAsync("/page?fbclid=" + new string('a', 501), "_fbp=fb.1.1700000000000.99");
        Assert.Empty(cookies);
    }

    [Fact]
    public async Task A_click_id_only_in_the_referrer_is_honoured()
    {
        var cookies = await GetSetCookiesAsync("/page", "_fbp=fb.1.1700000000000.99", referer: "https://shop.example.com/landing?utm_source=fb&fbclid=FromReferer#top");
        Assert.Matches(@"^_fbc=fb\.0\.\d{13}\.FromReferer;", cookies["_fbc"]);
    }

    [Theory]
    [InlineData("/page?fbclid=")]
    [InlineData("/page?xfbclid=1")]
    public async Task The_referrer_is_looked_at_when_the_query_has_no_click_id(string path)
    {
        var cookies = await GetSetCookiesAsync(path, "_fbp=fb.1.1700000000000.99", referer: "https://shop.example.com/landing?fbclid=FromReferer");
        Assert.Matches(@"^_fbc=fb\.0\.\d{13}\.FromReferer;", cookies["_fbc"]);
    }

    [Fact]
    public async Task A_click_id_in_the_query_wins_over_the_referrer_s_even_when_it_is_ignored()
    {
        var cookies = await GetSetCookiesAsync("/page?fbclid=a.b", "_fbp=fb.1.1700000000000.99", referer: "https://shop.example.com/landing?fbclid=FromReferer");
        Assert.Empty(cookies);
    }

    [Fact]
    public async Task A_question_mark_in_the_referrer_s_fragment_starts_no_query()
    {
        var cookies = await GetSetCookiesAsync("/page", "_fbp=fb.1.1700000000000.99", referer: "https://shop.example.com/landing#top?fbclid=InFragment");
        Assert.Empty(cookies);
    }

    [Fact]
    public async Task Cookies_with_a_damaged_fifth_segment_are_treated_as_absent()
    {
        var cookies = await GetSetCookiesAsync("/page?fbclid=AbC", "_fbc=fb.1.1700000000000.AbC.damaged; _fbp=fb.1.1700000000000.99.XY");
        Assert.Matches(@"^_fbc=fb\.0\.\d{13}\.AbC;", cookies["_fbc"]);
        Assert.Matches(@"^_fbp=fb\.0\.\d{13}\.\d+;", cookies["_fbp"]);
    }

    [Fact]
    public async Task Requests_that_are_not_page_views_get_no_fbp()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/plain");
        request.Headers.Accept.Clear();
        request.Headers.Accept.ParseAdd("application/json");
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Accept.Clear();
        using var response = await client.SendAsync(request);
        Assert.False(response.Headers.Contains("Set-Cookie"));

        using var script = new HttpRequestMessage(HttpMethod.Get, "/plain");
        script.Headers.Add("Sec-Fetch-Dest", "script");
        using var scriptResponse = await _app.CreateClient().SendAsync(script);
        Assert.False(scriptResponse.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task A_configured_cookie_domain_is_used_when_the_host_is_inside_it()
    {
        await using var app = await TestApp.StartAsync(o => o.CookieDomain = "example.com", sendToGraph: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/page?fbclid=AbC");
        request.Headers.Host = "www.example.com";
        using var response = await app.CreateClient().SendAsync(request);

        var fbc = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("_fbc=", StringComparison.Ordinal));
        Assert.Matches(@"^_fbc=fb\.1\.\d{13}\.AbC; max-age=7776000; domain=example\.com; path=/; samesite=lax$", fbc);

        // Another host (a developer's localhost) gets host-only cookies the browser will accept, and their index
        // describes that host, not the configured domain.
        using var local = await app.CreateClient().GetAsync("/page?fbclid=AbC");
        Assert.DoesNotContain("domain=", string.Join(";", local.Headers.GetValues("Set-Cookie")));
        Assert.Contains(local.Headers.GetValues("Set-Cookie"), c => c.StartsWith("_fbc=fb.0.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_configured_domain_cookies_go_on_the_registrable_domain()
    {
        var cookies = await GetSetCookiesAsync("/page?fbclid=AbC", host: "www.shop.example.co.uk");
        Assert.Matches(@"^_fbc=fb\.2\.\d{13}\.AbC; max-age=7776000; domain=example\.co\.uk; path=/; samesite=lax$", cookies["_fbc"]);
        Assert.Matches(@"^_fbp=fb\.2\.\d{13}\.\d+; max-age=7776000; domain=example\.co\.uk;", cookies["_fbp"]);
    }

    [Fact]
    public async Task A_returning_visitor_s_new_click_replaces_the_pixel_s_cookie_on_the_domain()
    {
        // The Pixel wrote _fbc on .shop.test; a new click arrives on www.shop.test.
        var lines = await GetSetCookieLinesAsync("/page?fbclid=NewClick", "_fbc=fb.1.1600000000000.OldClick; _fbp=fb.1.1600000000000.42", "www.shop.test");
        var fbc = Assert.Single(lines, l => l.StartsWith("_fbc=", StringComparison.Ordinal));
        Assert.Matches(@"^_fbc=fb\.1\.\d{13}\.NewClick; max-age=7776000; domain=shop\.test;", fbc);
        Assert.DoesNotContain(lines, l => l.StartsWith("_fbp=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_only_duplicate_is_expired_and_the_winner_rewritten_on_the_domain()
    {
        // A host-only _fbc from an older version (newer click) beside the Pixel's domain cookie; two _fbp likewise.
        var lines = await GetSetCookieLinesAsync(
            "/page",
            "_fbc=fb.1.1600000000000.PixelClick; _fbc=fb.2.1700000000000.NewerClick; _fbp=fb.1.1600000000000.111; _fbp=fb.2.1700000000000.222",
            "www.shop.test");

        Assert.Equal(
            [
                "_fbc=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; samesite=lax",
                "_fbc=fb.2.1700000000000.NewerClick; max-age=7776000; domain=shop.test; path=/; samesite=lax",
                "_fbp=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; samesite=lax",
                "_fbp=fb.1.1600000000000.111; max-age=7776000; domain=shop.test; path=/; samesite=lax",
            ],
            lines);
    }

    [Fact]
    public async Task Events_carry_the_winning_values_of_duplicate_cookies()
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=view") { Content = TestApp.Form() };
        request.Headers.Add("Cookie", "_fbc=fb.1.1600000000000.Old; _fbc=fb.1.1700000000000.New; _fbp=fb.1.1600000000000.111; _fbp=fb.1.1700000000000.222");
        (await app.Client.SendAsync(request)).EnsureSuccessStatusCode();

        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, TimeSpan.FromSeconds(10)));
        Assert.Equal("fb.1.1700000000000.New", sent.GetProperty("user_data").GetProperty("fbc").GetString());
        Assert.Equal("fb.1.1600000000000.111", sent.GetProperty("user_data").GetProperty("fbp").GetString());
    }

    [Fact]
    public async Task The_snippet_is_served_with_a_versioned_immutable_url()
    {
        var html = await _app.Client.GetStringAsync("/page");
        var src = Regex.Match(html, "<script src=\"(/_capi/meta-capi\\.[0-9a-f]{12}\\.js)\" defer nonce=\"test-nonce\"></script>").Groups[1].Value;
        Assert.NotEmpty(src);

        using var response = await _app.Client.GetAsync(src);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl!.ToString());
        Assert.Contains("metaCapi", await response.Content.ReadAsStringAsync());

        using var stable = await _app.Client.GetAsync("/_capi/meta-capi.js");
        Assert.Equal("public, max-age=300", stable.Headers.CacheControl!.ToString());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, src);
        conditional.Headers.IfNoneMatch.ParseAdd(response.Headers.ETag!.ToString());
        using var notModified = await _app.Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task The_library_can_be_switched_off_without_touching_the_app()
    {
        await using var app = await TestApp.StartAsync(o => o.Enabled = false);
        using var response = await app.CreateClient().GetAsync("/page?fbclid=AbC");
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.DoesNotContain("meta-capi", await response.Content.ReadAsStringAsync());

        using var lead = await app.Client.PostAsync("/lead?outcome=view", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.OK, lead.StatusCode);
        await app.WaitForOutboxEmptyAsync(); // nothing was queued: what the sender could ever send has been sent
        Assert.Empty(app.Graph!.Requests);
    }

    private async Task<List<string>> GetSetCookieLinesAsync(string path, string cookie, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        request.Headers.Host = host;
        using var response = await _app.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.TryGetValues("Set-Cookie", out var values) ? [.. values] : [];
    }

    private async Task<Dictionary<string, string>> GetSetCookiesAsync(string path, string? cookie = null, string? referer = null, string? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        if (referer is not null)
        {
            request.Headers.TryAddWithoutValidation("Referer", referer); // as sent, fragment and all
        }

        using var client = _app.CreateClient();
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.ToDictionary(v => v[..v.IndexOf('=')], v => v)
            : [];
    }
}
