using System.Text.Json;
using CapiMiddleware.Tests.Sample;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// Issue 15, part 4: inside Facebook's in-app browser the snippet recovers the ad's click ID when the URL carries no
/// <c>fbclid</c>. Chromium stands in for the in-app browser: an init script installs the bridge the way the iOS app
/// exposes it (<c>window.webkit.messageHandlers.browserProperties.postMessage('clickID')</c>, answering a promise), and
/// the context has the app's user agent. The shop runs as <c>www.shop.test</c>, its consent banner in front.
/// </summary>
public sealed class InAppClickIdInBrowserTests(Chromium chromium, SampleShop shop) : IClassFixture<Chromium>, IClassFixture<SampleShop>
{
    private const string InAppClick = "IwZXh0bgNhZW0BMABhZGlk_InApp-9";

    private const string FacebookIosUserAgent =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 " +
        "[FBAN/FBIOS;FBAV/470.0.0.40.108;FBBV/650000000;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]";

    // The in-app browser's bridge, and a record of what the page asked it (per document).
    private const string InAppBridge = $$"""
        (function () {
          var asked = window.__inAppAsked = [];
          window.webkit = { messageHandlers: { browserProperties: { postMessage: function (name) {
            asked.push(name);
            return Promise.resolve(name === 'clickID' ? '{{InAppClick}}' : '');
          } } } };
        })();
        """;

    private const string SnippetStarted = "!!window.metaCapi && !!window.fbq && document.readyState !== 'loading'";

    private Uri Shop(string path) => new($"http://www.shop.test:{shop.BaseUrl.Port}{path}");

    private Task<BrowserPage> InAppPageAsync() => chromium.NewPageAsync(userAgent: FacebookIosUserAgent, initScripts: [InAppBridge]);

    [SkippableFact]
    public async Task Without_fbclid_the_in_app_click_ID_becomes_the_domain_fbc_and_reaches_the_server_s_later_events()
    {
        chromium.Require();
        await using var page = await InAppPageAsync();
        await page.GotoAsync(Shop("/products/1"));
        await page.WaitForAsync<bool>(SnippetStarted);
        Assert.Equal(0, await page.EvaluateAsync<int>("window.__inAppAsked.length")); // no consent yet: nothing asked

        await ShopInBrowserTests.AcceptCookiesAsync(page);
        await page.WaitForAsync<bool>("document.cookie.indexOf('_fbc=') >= 0");
        Assert.Equal(["clickID"], await page.EvaluateAsync<string[]>("window.__inAppAsked"));
        var fbc = Assert.Single(await page.CookiesAsync(Shop("/")), c => c.Name == "_fbc");
        Assert.Equal(".shop.test", fbc.Domain);
        Assert.Matches($@"^fb\.1\.\d{{13}}\.{InAppClick}$", fbc.Value);

        // The next page: the cookie is there, the bridge is not asked again, and the server's event carries the click.
        await page.GotoAsync(Shop("/products/1"));
        await page.WaitForAsync<bool>(SnippetStarted);
        Assert.Equal(0, await page.EvaluateAsync<int>("window.__inAppAsked.length"));
        var sent = await AddToCartAsync(page);
        Assert.Equal(fbc.Value, sent.GetProperty("user_data").GetProperty("fbc").GetString());
        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task Without_consent_the_in_app_browser_is_never_asked_and_no_fbc_is_written()
    {
        chromium.Require();
        await using var page = await InAppPageAsync();
        foreach (var path in new[] { "/", "/products/2" })
        {
            var visit = await page.GotoAsync(Shop(path));
            await page.WaitForAsync<bool>(SnippetStarted);
            // The snippet has started and told the Pixel consent is revoked; nothing asked, nothing written by anyone.
            Assert.Contains(await page.PixelQueueAsync(), call => call.GetArrayLength() > 1 && call[0].GetString() == "consent" && call[1].GetString() == "revoke");
            Assert.Equal(0, await page.EvaluateAsync<int>("window.__inAppAsked.length"));
            Assert.DoesNotContain(visit.SetCookies, c => c.StartsWith("_fbc=", StringComparison.Ordinal));
            Assert.DoesNotContain(await page.CookiesAsync(Shop("/")), c => c.Name is "_fbc" or "_fbp");
        }

        await AssertCleanAsync(page);
    }

    [SkippableFact]
    public async Task An_fbclid_in_the_URL_wins_and_the_in_app_browser_is_not_asked()
    {
        chromium.Require();
        await using var page = await InAppPageAsync();
        await page.GotoAsync(Shop("/products/1?fbclid=Url_Click_3"));
        await ShopInBrowserTests.AcceptCookiesAsync(page);
        await page.WaitForAsync<bool>("document.cookie.indexOf('_fbc=') >= 0");
        // The snippet writes the URL's click ID synchronously, where it would otherwise have asked: none was asked.
        Assert.Equal(0, await page.EvaluateAsync<int>("window.__inAppAsked.length"));
        var fbc = Assert.Single(await page.CookiesAsync(Shop("/")), c => c.Name == "_fbc");
        Assert.Matches(@"^fb\.1\.\d{13}\.Url_Click_3$", fbc.Value);

        await page.GotoAsync(Shop("/products/1"));
        await page.WaitForAsync<bool>(SnippetStarted);
        Assert.Equal(0, await page.EvaluateAsync<int>("window.__inAppAsked.length")); // a valid _fbc: nothing to recover
        var sent = await AddToCartAsync(page);
        Assert.Equal(fbc.Value, sent.GetProperty("user_data").GetProperty("fbc").GetString());
        await AssertCleanAsync(page);
    }

    private async Task<JsonElement> AddToCartAsync(BrowserPage page)
    {
        await page.ClickAsync("#add-to-cart");
        var eventId = await page.WaitForAsync<string>("document.getElementById('cart-status').dataset.eventId");
        return await shop.WaitForServerEventAsync(eventId);
    }

    private static async Task AssertCleanAsync(BrowserPage page)
    {
        var report = await page.ReportAsync();
        Assert.True(report.Errors.Length == 0, "Browser errors:\n" + string.Join("\n", report.Errors));
    }
}
