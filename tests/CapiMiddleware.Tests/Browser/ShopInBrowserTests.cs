using System.Net;
using System.Text.Json;
using CapiMiddleware.Cookies;
using CapiMiddleware.Tests.Sample;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// The sample shop in a real headless Chromium, with Meta's hosts blocked as behind an ad blocker, so the Pixel's base
/// code stays a queue: what the Pixel was asked to send is compared with what the server sent to the fake Graph API.
/// The sample asks for cookie consent first: each flow accepts its banner, as a shopper would.
/// </summary>
public sealed class ShopInBrowserTests(Chromium chromium, SampleShop shop) : IClassFixture<Chromium>, IClassFixture<SampleShop>
{
    internal static readonly Dictionary<string, string> CheckoutFields = new()
    {
        ["input[name=email]"] = "Browser.Buyer@Example.com",
        ["input[name=phone]"] = "+1 555 010 9999",
        ["input[name=firstName]"] = "Ada",
        ["input[name=lastName]"] = "Lovelace",
        ["input[name=city]"] = "Boston",
        ["input[name=state]"] = "MA",
        ["input[name=zip]"] = "02110",
        ["input[name=country]"] = "US",
    };

    [SkippableFact]
    public async Task Arriving_from_an_ad_the_page_sees_the_cookies_the_server_set_and_the_pixel_gets_a_PageView()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(shop.BaseUrl, "/"));
        await AcceptCookiesAsync(page);
        var fbp = (await page.DocumentCookiesAsync())["_fbp"]; // written by the snippet on "Accept"

        var landing = await page.GotoAsync(new Uri(shop.BaseUrl, "/?fbclid=AbC-123_xyz"));

        var set = landing.SetCookies.Select(c => c.Split(';')[0].Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var cookies = await page.DocumentCookiesAsync();
        Assert.Matches(@"^fb\.\d\.\d{13}\.AbC-123_xyz$", set["_fbc"]);
        Assert.Equal(set["_fbc"], cookies["_fbc"]);
        Assert.False(set.ContainsKey("_fbp"), "an existing _fbp is never replaced");
        Assert.Equal(fbp, cookies["_fbp"]);
        Assert.True(MetaCookies.IsValid(fbp), fbp);
        Assert.Contains(await page.PixelQueueAsync(), call => Call(call) is ("track", "PageView"));
        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task Add_to_cart_gives_the_pixel_and_the_server_one_event_id()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(shop.BaseUrl, "/products/1"));
        await AcceptCookiesAsync(page);

        await AddToCartAsync(page);
        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task Checkout_gives_the_pixel_and_the_server_the_order_id_and_the_server_the_browser_s_cookies()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(shop.BaseUrl, "/?fbclid=FromAnAd_42"));
        await AcceptCookiesAsync(page);

        var purchase = await CheckOutAsync(page);

        var cookies = await page.DocumentCookiesAsync();
        var user = purchase.GetProperty("user_data");
        Assert.Equal(cookies["_fbc"], user.GetProperty("fbc").GetString());
        Assert.Equal(cookies["_fbp"], user.GetProperty("fbp").GetString());
        Assert.Equal(await page.EvaluateAsync<string>("navigator.userAgent"), user.GetProperty("client_user_agent").GetString());
        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task With_Meta_blocked_entirely_server_events_still_arrive_and_the_page_has_no_script_error()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(shop.BaseUrl, "/products/2"));
        await AcceptCookiesAsync(page);

        await AddToCartAsync(page);
        await CheckOutAsync(page);

        var report = await page.ReportAsync();
        Assert.Contains(report.Blocked, url => url.Contains("connect.facebook.net/en_US/fbevents.js", StringComparison.Ordinal));
        Assert.False(await page.EvaluateAsync<bool>("typeof window.fbq.callMethod === 'function'"), "Meta's library must not have loaded");
        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task Under_a_strict_content_security_policy_nothing_is_refused_and_both_flows_deduplicate()
    {
        chromium.Require();
        using (var http = new HttpClient())
        using (var response = await http.GetAsync(new Uri(shop.BaseUrl, "/products/3")))
        {
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("script-src 'self' 'nonce-", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
            Assert.DoesNotContain("unsafe-eval", csp);
        }

        await using var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(shop.BaseUrl, "/products/3"));
        await AcceptCookiesAsync(page);
        await AddToCartAsync(page);
        await CheckOutAsync(page);

        var report = await page.ReportAsync();
        Assert.Empty(report.Violations);
        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task A_cached_copy_of_a_product_page_opened_from_an_ad_sets_fbc_in_the_browser()
    {
        chromium.Require();
        string html;
        using (var http = new HttpClient())
        {
            http.DefaultRequestHeaders.Accept.ParseAdd("text/html");
            http.DefaultRequestHeaders.Add("Cookie", $"{SampleShop.ConsentCookieName}={SampleShop.ConsentCookieValue}"); // cached for a consenting visitor
            html = await http.GetStringAsync(new Uri(shop.BaseUrl, "/products/4"));
        }

        await using var page = await chromium.NewPageAsync(cachedPages: new Dictionary<string, string> { ["/cache/products/4.html"] = html });
        var opened = await page.GotoAsync(new Uri(shop.BaseUrl, "/cache/products/4.html?fbclid=Cached-Click_7"));
        Assert.Empty(opened.SetCookies); // the server never saw this request

        var cookies = await page.WaitForAsync<string>("document.cookie.indexOf('_fbc=') >= 0 && document.cookie");
        var jar = await page.DocumentCookiesAsync();
        Assert.Matches(@"^fb\.\d\.\d{13}\.Cached-Click_7$", jar["_fbc"]);
        Assert.True(MetaCookies.IsValid(jar["_fbc"]), cookies);
        Assert.True(MetaCookies.IsValid(jar["_fbp"]), cookies);
        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task Before_consent_no_cookies_and_no_events_after_accepting_they_flow_and_the_pixel_s_consent_follows()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync();

        var landing = await page.GotoAsync(new Uri(shop.BaseUrl, "/products/1?fbclid=Consent_Click_7"));

        // Before: no Meta cookie from the server or the snippet, the Pixel revoked before init, no ViewContent.
        Assert.DoesNotContain(landing.SetCookies, c => c.StartsWith("_fbc=", StringComparison.Ordinal) || c.StartsWith("_fbp=", StringComparison.Ordinal));
        var before = await page.DocumentCookiesAsync();
        Assert.False(before.ContainsKey("_fbc") || before.ContainsKey("_fbp"), string.Join("; ", before.Keys));
        var queue = (await page.PixelQueueAsync()).Select(Call).ToList();
        var revoke = queue.IndexOf(("consent", "revoke"));
        Assert.True(revoke >= 0 && revoke < queue.FindIndex(c => c.Item1 == "init"), string.Join(", ", queue));
        Assert.DoesNotContain(("track", "ViewContent"), queue);

        // "Add to cart" before consent: the shop still works, but neither the Pixel nor the server reports it.
        await page.ClickAsync("#add-to-cart");
        var unreported = await page.WaitForAsync<string>("document.getElementById('cart-status').dataset.eventId");
        Assert.DoesNotContain(await page.PixelQueueAsync(), call => Call(call) is ("track", "AddToCart"));

        await AcceptCookiesAsync(page);

        queue = (await page.PixelQueueAsync()).Select(Call).ToList();
        Assert.True(queue.IndexOf(("consent", "grant")) > queue.IndexOf(("consent", "revoke")), string.Join(", ", queue));
        var after = await page.DocumentCookiesAsync();
        Assert.Matches(@"^fb\.\d\.\d{13}\.Consent_Click_7$", after["_fbc"]);
        Assert.True(MetaCookies.IsValid(after["_fbp"]), after["_fbp"]);

        // After: the next add to cart is reported on both sides with one ID and the browser's cookies; the first never is.
        await page.EvaluateAsync<bool>("(document.getElementById('cart-status').dataset.eventId = '', true)");
        var reported = await AddToCartAsync(page);
        var sent = await shop.WaitForServerEventAsync(reported);
        Assert.Equal(after["_fbc"], sent.GetProperty("user_data").GetProperty("fbc").GetString());
        Assert.Equal(after["_fbp"], sent.GetProperty("user_data").GetProperty("fbp").GetString());
        Assert.DoesNotContain(shop.Graph.AcceptedEvents, e => e.GetProperty("event_id").GetString() == unreported);
        await AssertCleanAsync(page);
    }

    /// <summary>Clicks the banner's "Accept" and waits until the server and the snippet have both been told.</summary>
    internal static async Task AcceptCookiesAsync(BrowserPage page)
    {
        await page.ClickAsync("#consent-accept");
        await page.WaitForAsync<bool>("!document.getElementById('consent-banner')");
    }

    /// <summary>Clicks "Add to cart" and checks both copies of the AddToCart event carry the same ID.</summary>
    private async Task<string> AddToCartAsync(BrowserPage page)
    {
        await page.ClickAsync("#add-to-cart");
        var fromServer = await page.WaitForAsync<string>("document.getElementById('cart-status').dataset.eventId");

        var pixel = Assert.Single(await page.PixelQueueAsync(), call => Call(call) is ("track", "AddToCart"));
        Assert.Equal(fromServer, pixel[3].GetProperty("eventID").GetString());
        var sent = await shop.WaitForServerEventAsync(fromServer);
        Assert.Equal("AddToCart", sent.GetProperty("event_name").GetString());
        return fromServer;
    }

    /// <summary>Fills and submits the checkout form; checks the confirmation page's Purchase and the server's share the order ID.</summary>
    private async Task<JsonElement> CheckOutAsync(BrowserPage page)
    {
        await page.GotoAsync(new Uri(shop.BaseUrl, "/checkout?productId=2"));
        await page.FillAsync(CheckoutFields);
        await page.ClickAndWaitForLoadAsync("#place-order");

        var orderId = await page.EvaluateAsync<string>("document.getElementById('order-id').textContent");
        var purchase = Assert.Single(await page.WaitForAsync<JsonElement[]>(
            "(window.fbq.queue || []).filter(a => a[1] === 'Purchase').length > 0 && JSON.parse(JSON.stringify(window.fbq.queue.filter(a => a[1] === 'Purchase').map(a => Array.from(a))))"));
        Assert.Equal("track", purchase[0].GetString());
        Assert.Equal(orderId, purchase[3].GetProperty("eventID").GetString());

        var sent = await shop.WaitForServerEventAsync(orderId);
        Assert.Equal("Purchase", sent.GetProperty("event_name").GetString());
        Assert.Equal(purchase[2].GetProperty("value").GetDecimal(), sent.GetProperty("custom_data").GetProperty("value").GetDecimal());
        return sent;
    }

    private static async Task AssertCleanAsync(BrowserPage page)
    {
        var report = await page.ReportAsync();
        Assert.True(report.Errors.Length == 0, "Browser errors:\n" + string.Join("\n", report.Errors));
    }

    private static (string?, string?) Call(JsonElement call) =>
        (call.GetArrayLength() > 0 ? call[0].GetString() : null, call.GetArrayLength() > 1 ? call[1].GetString() : null);
}
