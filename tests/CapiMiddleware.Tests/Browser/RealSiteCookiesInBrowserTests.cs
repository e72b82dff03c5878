using System.Text.Json;
using CapiMiddleware.Tests.Sample;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// Issue 15, part 1, in a real Chromium on a real host name (<c>www.shop.test</c>, mapped to loopback), with Meta's
/// hosts blocked and a stand-in for Meta's Pixel that reads and writes <c>_fbc</c>/<c>_fbp</c> as fbevents.js does: on
/// the shortest domain the browser accepts, reading the first value <c>document.cookie</c> lists.
/// </summary>
public sealed class RealSiteCookiesInBrowserTests(Chromium chromium, SampleShop shop) : IClassFixture<Chromium>, IClassFixture<SampleShop>
{
    private const string PixelBrowserId = "fb.1.1600000000000.1116446470";

    // What Meta's fbevents.js does with its cookies, minus the network: once it may track (no consent revoked, or granted
    // since), _fbp when absent and _fbc when the URL brings a new fbclid, each written on the shortest suffix of the host
    // that the browser takes as a cookie domain.
    private const string PixelStandIn = """
        (function () {
          var f = window.fbq, calls = window.__pixelCalls = [], revoked = false;
          function read(name) {
            var m = ('; ' + document.cookie).split('; ' + name + '=');
            return m.length > 1 ? m[1].split(';')[0] : null;
          }
          function write(name, value) {
            var labels = location.hostname.split('.');
            for (var k = 2; k <= labels.length; k++) {
              var d = labels.slice(labels.length - k).join('.');
              document.cookie = name + '=' + value + '; path=/; max-age=7776000; domain=' + d;
              if (('; ' + document.cookie + ';').indexOf('; ' + name + '=' + value + ';') >= 0) return;
            }
            document.cookie = name + '=' + value + '; path=/; max-age=7776000';
          }
          function syncCookies() {
            var now = Date.now();
            if (!read('_fbp')) write('_fbp', 'fb.1.' + now + '.' + Math.floor(Math.random() * 2147483647));
            var click = new URLSearchParams(location.search).get('fbclid');
            var fbc = read('_fbc');
            if (click && !(fbc && fbc.split('.')[3] === click)) write('_fbc', 'fb.1.' + now + '.' + click);
          }
          f.callMethod = function () {
            var a = Array.prototype.slice.call(arguments);
            calls.push(a);
            if (a[0] === 'consent') {
              revoked = a[1] === 'revoke';
              if (!revoked) syncCookies();
            }
          };
          f.queue.splice(0).forEach(function (a) { f.callMethod.apply(f, a); });
          if (!revoked) syncCookies();
        })();
        """;

    private Uri Shop(string path, string host = "www.shop.test") => new($"http://{host}:{shop.BaseUrl.Port}{path}");

    [SkippableFact]
    public async Task A_returning_visitor_with_the_pixel_s_cookies_gets_the_new_click_on_every_later_server_event()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync(fbevents: PixelStandIn);
        // Years ago the Pixel wrote both cookies on the registrable domain, for an older campaign.
        await page.AddCookiesAsync(
            new BrowserCookie("_fbc", "fb.1.1600000000000.OldCampaign", ".shop.test"),
            new BrowserCookie("_fbp", PixelBrowserId, ".shop.test"));
        await page.GotoAsync(Shop("/"));
        await ShopInBrowserTests.AcceptCookiesAsync(page);

        var landing = await page.GotoAsync(Shop("/?fbclid=NewCampaign_7"));
        Assert.Contains(landing.SetCookies, c => c.StartsWith("_fbc=", StringComparison.Ordinal) && c.Contains("domain=shop.test", StringComparison.Ordinal));

        // One value per name, on the domain: the server's write replaced the Pixel's cookie instead of adding a sibling.
        var cookies = await page.CookiesAsync(Shop("/"));
        var fbc = Assert.Single(cookies, c => c.Name == "_fbc");
        Assert.Equal(".shop.test", fbc.Domain);
        Assert.Matches(@"^fb\.1\.\d{13}\.NewCampaign_7$", fbc.Value);
        Assert.Equal(PixelBrowserId, Assert.Single(cookies, c => c.Name == "_fbp").Value);

        // Later, with the Pixel blocked or not, the server's events carry the new click.
        await page.GotoAsync(Shop("/products/1"));
        await page.ClickAsync("#add-to-cart");
        var added = await shop.WaitForServerEventAsync(await page.WaitForAsync<string>("document.getElementById('cart-status').dataset.eventId"));
        var purchase = await CheckOutAsync(page);
        foreach (var sent in new[] { added, purchase })
        {
            Assert.Equal(fbc.Value, sent.GetProperty("user_data").GetProperty("fbc").GetString());
            Assert.Equal(PixelBrowserId, sent.GetProperty("user_data").GetProperty("fbp").GetString());
        }

        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task With_the_pixel_blocked_sibling_subdomains_and_the_apex_see_one_browser_id()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync(); // no Pixel: the library's own writes must be on the domain
        await page.GotoAsync(Shop("/"));
        await ShopInBrowserTests.AcceptCookiesAsync(page);
        var fbp = Assert.Single(await page.CookiesAsync(Shop("/")), c => c.Name == "_fbp");
        Assert.Equal(".shop.test", fbp.Domain);

        foreach (var host in new[] { "shop.test", "m.shop.test" })
        {
            await page.GotoAsync(Shop("/", host));
            Assert.Equal(fbp.Value, (await page.DocumentCookiesAsync())["_fbp"]);
            Assert.Single(await page.CookiesAsync(Shop("/", host)), c => c.Name == "_fbp"); // no sibling minted there
        }

        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task A_host_only_duplicate_beside_the_domain_cookie_converges_to_one_value_the_server_sends()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync(fbevents: PixelStandIn);
        // An older version of this library wrote host-only cookies (a newer click); the Pixel's are on the domain.
        await page.AddCookiesAsync(
            new BrowserCookie("_fbc", "fb.2.1700000000000.HostOnlyNewer", "www.shop.test"),
            new BrowserCookie("_fbc", "fb.1.1600000000000.DomainOlder", ".shop.test"),
            new BrowserCookie("_fbp", "fb.2.1700000000000.222", "www.shop.test"),
            new BrowserCookie("_fbp", PixelBrowserId, ".shop.test"));
        Assert.Equal(4, (await page.CookiesAsync(Shop("/"))).Count(c => c.Name is "_fbc" or "_fbp"));

        await page.GotoAsync(Shop("/products/2"));
        await ShopInBrowserTests.AcceptCookiesAsync(page);
        await page.GotoAsync(Shop("/products/2"));

        var cookies = await page.CookiesAsync(Shop("/"));
        var fbc = Assert.Single(cookies, c => c.Name == "_fbc");
        var fbp = Assert.Single(cookies, c => c.Name == "_fbp");
        Assert.Equal((".shop.test", "fb.2.1700000000000.HostOnlyNewer"), (fbc.Domain, fbc.Value)); // the newest click
        Assert.Equal(".shop.test", fbp.Domain);

        await page.ClickAsync("#add-to-cart");
        var added = await shop.WaitForServerEventAsync(await page.WaitForAsync<string>("document.getElementById('cart-status').dataset.eventId"));
        Assert.Equal(fbc.Value, added.GetProperty("user_data").GetProperty("fbc").GetString());
        Assert.Equal(fbp.Value, added.GetProperty("user_data").GetProperty("fbp").GetString());
        Assert.Equal(fbp.Value, (await page.DocumentCookiesAsync())["_fbp"]); // what the Pixel reads
        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task The_browser_s_IPv6_address_from_the_ip_endpoint_reaches_the_server_s_events_through_fbi()
    {
        chromium.Require();
        const string browserAddress = "2a03:2880:f10e:83:face:b00c:0:25de";
        // The page reaches /_capi/ip as over IPv6 (through the sample's trusted loopback proxy); its own requests come
        // from 127.0.0.1, which is never sent.
        await using var page = await chromium.NewPageAsync(forwardedFor: ("/_capi/ip", browserAddress));
        await page.GotoAsync(Shop("/products/1"));
        Assert.DoesNotContain(await page.CookiesAsync(Shop("/")), c => c.Name == "_fbi"); // no consent: nothing asked

        await ShopInBrowserTests.AcceptCookiesAsync(page);
        await page.WaitForAsync<bool>("document.cookie.indexOf('_fbi=') >= 0");
        var fbi = Assert.Single(await page.CookiesAsync(Shop("/")), c => c.Name == "_fbi");
        Assert.Equal((".shop.test", browserAddress), (fbi.Domain, fbi.Value));

        await page.ClickAsync("#add-to-cart");
        var added = await shop.WaitForServerEventAsync(await page.WaitForAsync<string>("document.getElementById('cart-status').dataset.eventId"));
        Assert.Equal(browserAddress, added.GetProperty("user_data").GetProperty("client_ip_address").GetString());
        await AssertCleanAsync(page);
    }

    private async Task<JsonElement> CheckOutAsync(BrowserPage page)
    {
        await page.GotoAsync(Shop("/checkout?productId=2"));
        await page.FillAsync(ShopInBrowserTests.CheckoutFields);
        await page.ClickAndWaitForLoadAsync("#place-order");
        var orderId = await page.EvaluateAsync<string>("document.getElementById('order-id').textContent");
        return await shop.WaitForServerEventAsync(orderId);
    }

    private static async Task AssertCleanAsync(BrowserPage page)
    {
        var report = await page.ReportAsync();
        Assert.True(report.Errors.Length == 0, "Browser errors:\n" + string.Join("\n", report.Errors));
    }
}
