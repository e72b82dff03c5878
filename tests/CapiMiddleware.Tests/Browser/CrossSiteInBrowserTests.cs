using System.Net;
using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Tests.Infrastructure;
using CapiMiddleware.Tests.Sample;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// Issue 14, items 2 and 3, in a real Chromium: the shop is <c>www.shop.test</c>; another server on another loopback
/// port plays a foreign site (<c>attacker.test</c>: cross-site) and a sibling of the shop's (<c>evil.shop.test</c>:
/// same site, another origin). Their pages post to the shop the way any page can, without script access to it: a
/// form that grants consent, and beacons as a <c>text/plain</c> form, a <c>no-cors</c> fetch and a <c>sendBeacon</c>.
/// </summary>
public sealed class CrossSiteInBrowserTests(Chromium chromium, SampleShop shop, OtherSite other)
    : IClassFixture<Chromium>, IClassFixture<SampleShop>, IClassFixture<OtherSite>
{
    private const string AttackerClick = "Attacker_Click_9";

    private Uri Shop(string path) => new($"http://www.shop.test:{shop.BaseUrl.Port}{path}");

    [SkippableFact]
    public async Task A_page_on_another_site_cannot_grant_consent_and_its_click_id_is_never_kept_or_reported()
    {
        chromium.Require();
        other.Serve("/consent-attack.html", $$"""
            <!DOCTYPE html><title>You won!</title>
            <form id="f" method="post" action="{{Shop("/consent")}}">
              <input type="hidden" name="choice" value="accept">
              <input type="hidden" name="returnUrl" value="/?fbclid={{AttackerClick}}">
            </form>
            <script>document.getElementById('f').submit();</script>
            """);
        await using var page = await chromium.NewPageAsync();
        await page.GotoAsync(Shop("/")); // the visitor knows the shop: the banner, and its antiforgery cookie
        Assert.True(await page.EvaluateAsync<bool>("!!document.getElementById('consent-banner')"));

        await page.GotoAsync(other.Url("attacker.test", "/consent-attack.html"));
        var attacker = other.Url("attacker.test", "/").GetLeftPart(UriPartial.Authority);
        var post = Assert.Single(await WaitForPostsAsync("/consent", attacker, 1));
        await page.WaitForAsync<bool>("location.hostname === 'www.shop.test' && document.readyState === 'complete'");
        Assert.True(post.Status == 400, post.ToString());

        // The visitor's next page views: still no consent, so no Meta cookie, the banner asks, and nothing is reported.
        var later = await page.GotoAsync(Shop("/products/1"));
        Assert.DoesNotContain(await page.CookieNamesAsync(Shop("/")), name => name is SampleShop.ConsentCookieName or "_fbc" or "_fbp");
        Assert.DoesNotContain(later.SetCookies, c => c.StartsWith("_fbc=", StringComparison.Ordinal) || c.StartsWith("_fbp=", StringComparison.Ordinal));
        Assert.True(await page.EvaluateAsync<bool>("!!document.getElementById('consent-banner')"), "the banner still asks");
        var data = await PageDataAsync(page);
        Assert.False(data.GetProperty("consent").GetBoolean());
        Assert.Empty(data.GetProperty("events").EnumerateArray());
        var queue = (await page.PixelQueueAsync()).Select(call => (call[0].GetString(), call.GetArrayLength() > 1 ? call[1].GetString() : null)).ToList();
        Assert.True(queue.IndexOf(("consent", "revoke")) is >= 0 and var revoke && revoke < queue.FindIndex(c => c.Item1 == "init"), string.Join(", ", queue));
        Assert.DoesNotContain(("track", "ViewContent"), queue);

        // Then the visitor accepts the shop's own banner: what the server reports from now on arrives, and nothing before
        // it did (events are sent in the order they were queued), nor anything with the other site's click ID.
        await ShopInBrowserTests.AcceptCookiesAsync(page);
        Assert.Contains(SampleShop.ConsentCookieName, await page.CookieNamesAsync(Shop("/")));
        await page.ClickAsync("#add-to-cart");
        var eventId = await page.WaitForAsync<string>("document.getElementById('cart-status').dataset.eventId");
        var added = await shop.WaitForServerEventAsync(eventId);
        Assert.Equal((await page.DocumentCookiesAsync())["_fbp"], added.GetProperty("user_data").GetProperty("fbp").GetString());
        Assert.DoesNotContain(shop.Graph.AcceptedEvents, e => e.GetRawText().Contains(AttackerClick, StringComparison.Ordinal));
        Assert.DoesNotContain(shop.Graph.AcceptedEvents, e => e.GetProperty("event_name").GetString() == "ViewContent"
            && e.GetProperty("user_data").GetProperty("fbp").GetString() == added.GetProperty("user_data").GetProperty("fbp").GetString());
        Assert.False((await page.DocumentCookiesAsync()).ContainsKey("_fbc"), "no click ID but the visitor's own");
        await AssertCleanAsync(page, refused: $"(Bad Request) ({Shop("/consent")})");
    }

    [SkippableFact]
    public async Task Beacons_from_another_site_or_a_sibling_origin_are_refused_and_mark_nothing()
    {
        chromium.Require();

        // An event the server reported for a consenting visitor whose page never sends its own beacon (fetched, not shown).
        string eventId;
        using (var http = shop.CreateBrowser(new CookieContainer()))
        {
            eventId = Assert.Single(PageData.Events(await http.GetStringAsync("/products/2"))).EventId;
        }

        var reach = shop.Services.GetRequiredService<PixelReach>();
        var body = $$"""{"v":1,"blocked":true,"ids":["{{eventId}}"]}""";

        // Chromium sends Sec-Fetch-Site only to potentially trustworthy origins (HTTPS, loopback): to the shop as
        // www.shop.test over plain HTTP it sends none, and the Origin decides (as in Safari before 16.4); to the shop as
        // 127.0.0.1 it sends one, and a page on another loopback port is "same-site", one on localhost "cross-site".
        (string ShopHost, string OtherHost, string? SecFetchSite)[] senders =
        [
            ("www.shop.test", "attacker.test", null),
            ("www.shop.test", "evil.shop.test", null),
            ("127.0.0.1", "localhost", "cross-site"),
            ("127.0.0.1", "127.0.0.1", "same-site"),
        ];
        foreach (var (shopHost, otherHost, secFetchSite) in senders)
        {
            var beacon = $"http://{shopHost}:{shop.BaseUrl.Port}/_capi/beacon";
            other.Serve($"/beacon-attack-{shopHost}.html", $$"""
                <!DOCTYPE html><title>Nothing to see</title>
                <iframe name="sink"></iframe>
                <form id="f" method="post" enctype="text/plain" action="{{beacon}}" target="sink">
                  <input type="hidden" name='{"v":1,"blocked":true,"ids":["{{eventId}}"],"pad":"' value='"}'>
                </form>
                <script>
                  var body = {{JsonSerializer.Serialize(body)}};
                  document.getElementById('f').submit();
                  fetch({{JsonSerializer.Serialize(beacon)}}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: body });
                  navigator.sendBeacon({{JsonSerializer.Serialize(beacon)}}, body);
                </script>
                """);

            await using var page = await chromium.NewPageAsync();
            await page.GotoAsync(other.Url(otherHost, $"/beacon-attack-{shopHost}.html"));

            var from = other.Url(otherHost, "/").GetLeftPart(UriPartial.Authority);
            var posts = await WaitForPostsAsync("/_capi/beacon", from, 3); // the form, the fetch and the sendBeacon
            Assert.All(posts, p => Assert.True(
                (p.Status, p.Host, p.SecFetchSite, p.ContentType?.StartsWith("text/plain", StringComparison.Ordinal)) == (403, $"{shopHost}:{shop.BaseUrl.Port}", secFetchSite, true),
                $"from {otherHost} to {shopHost}: {p}"));
            Assert.Equal(PixelReach.Side.Unknown, reach.SideOf(eventId));
        }
    }

    [SkippableFact]
    public async Task The_shop_s_own_banner_still_grants_consent_and_its_own_beacon_is_counted()
    {
        chromium.Require();
        var reach = shop.Services.GetRequiredService<PixelReach>();
        await using var page = await chromium.NewPageAsync();
        await page.GotoAsync(Shop("/products/3"));
        await ShopInBrowserTests.AcceptCookiesAsync(page);
        Assert.Contains(SampleShop.ConsentCookieName, await page.CookieNamesAsync(Shop("/")));

        // Now tracked: the page view reports ViewContent, and the snippet's beacon (a few seconds in) marks it, with
        // Meta's hosts blocked here, as reaching Meta from the server only.
        await page.GotoAsync(Shop("/products/3"));
        var eventId = Assert.Single((await PageDataAsync(page)).GetProperty("events").EnumerateArray()).GetProperty("eventId").GetString()!;
        await shop.WaitForServerEventAsync(eventId);
        await Eventually.TrueAsync(() => reach.SideOf(eventId) != PixelReach.Side.Unknown, "the page's own beacon is counted", TimeSpan.FromSeconds(20));
        Assert.Equal(PixelReach.Side.ServerOnly, reach.SideOf(eventId));

        // Over plain HTTP to www.shop.test the browser sends no Sec-Fetch-Site: its Origin is the shop's, so it counts.
        // (On 127.0.0.1, where it says same-origin, PixelReachInBrowserTests counts the beacons.)
        // A beacon sent as the first page went away can be cut off by the navigation (the client gone: 499, or a
        // truncated body: 400). None is refused for where it came from (403), and the counted one was taken.
        var posts = await WaitForPostsAsync("/_capi/beacon", Shop("/").GetLeftPart(UriPartial.Authority), 1);
        Assert.Contains(posts, p => (p.Status, p.SecFetchSite) == (204, null));
        Assert.All(posts, p => Assert.True(p.Status is not StatusCodes.Status403Forbidden && p.SecFetchSite is null, p.ToString()));
        await AssertCleanAsync(page);
    }

    /// <summary>Waits until the shop has answered <paramref name="count"/> POSTs to <paramref name="path"/> from pages of <paramref name="origin"/>.</summary>
    private async Task<ReceivedPost[]> WaitForPostsAsync(string path, string origin, int count)
    {
        ReceivedPost[] Matching() => [.. shop.Posts.Where(p => p.Path == path && p.Origin == origin)];
        try
        {
            await Eventually.TrueAsync(() => Matching().Length >= count, $"the shop has answered {count} POST(s) to {path} from {origin}", TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; it answered: {string.Join(", ", shop.Posts)}", ex);
        }

        return Matching();
    }

    private static Task<JsonElement> PageDataAsync(BrowserPage page) =>
        page.EvaluateAsync<JsonElement>("JSON.parse(document.getElementById('meta-capi-data').textContent)");

    /// <summary>No script or console error, but the refusals the test caused on purpose (<paramref name="refused"/>).</summary>
    private static async Task AssertCleanAsync(BrowserPage page, string? refused = null)
    {
        var errors = (await page.ReportAsync()).Errors
            .Where(e => refused is null || !(e.StartsWith("console.error: Failed to load resource", StringComparison.Ordinal) && e.Contains(refused, StringComparison.Ordinal)))
            .ToList();
        Assert.True(errors.Count == 0, "Browser errors:\n" + string.Join("\n", errors));
    }
}
