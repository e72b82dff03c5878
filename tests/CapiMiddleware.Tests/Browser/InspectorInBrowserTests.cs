using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CapiMiddleware.Tests.Infrastructure;
using CapiMiddleware.Tests.Sample;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// The inspector of the sample shop (Development, so on by default) in a real headless Chromium: after a checkout it
/// shows that checkout's Purchase with the Pixel's copy and the server's copy, and it updates while the shopper goes on.
/// </summary>
public sealed class InspectorInBrowserTests(Chromium chromium, SampleShop shop) : IClassFixture<Chromium>, IClassFixture<SampleShop>
{
    /// <summary>Set to a file path to keep a screenshot of the inspector (docs/inspector.png is made this way).</summary>
    private const string ScreenshotVariable = "INSPECTOR_SCREENSHOT";

    [SkippableFact]
    public async Task After_a_checkout_the_inspector_shows_its_Purchase_from_both_sides_and_updates_live()
    {
        chromium.Require();
        await using var shopper = await chromium.NewPageAsync();
        await shopper.GotoAsync(new Uri(shop.BaseUrl, "/?fbclid=FromAnAd_42"));
        await ShopInBrowserTests.AcceptCookiesAsync(shopper);
        await shopper.GotoAsync(new Uri(shop.BaseUrl, "/products/2"));
        await shopper.ClickAsync("#add-to-cart");
        var addToCartId = await shopper.WaitForAsync<string>("document.getElementById('cart-status').dataset.eventId");
        await shopper.GotoAsync(new Uri(shop.BaseUrl, "/checkout?productId=2"));
        await shopper.FillAsync(ShopInBrowserTests.CheckoutFields);
        await shopper.ClickAndWaitForLoadAsync("#place-order");
        var orderId = await shopper.EvaluateAsync<string>("document.getElementById('order-id').textContent");
        var sent = await shop.WaitForServerEventAsync(orderId);

        await using var inspector = await chromium.NewPageAsync();
        var opened = await inspector.GotoAsync(new Uri(shop.BaseUrl, "/_capi/inspector"));
        Assert.Equal(200, opened.Status);

        var card = $"document.querySelector('li.event[data-event-name=\"Purchase\"][data-event-id=\"{orderId}\"][data-status=\"sent\"]')";
        await ShowsAsync(inspector, card, "the inspector shows the Purchase " + orderId + " as sent");
        var pixel = await inspector.EvaluateAsync<string>($"{card}.querySelector('.pixel pre').textContent");
        var server = JsonDocument.Parse(await inspector.EvaluateAsync<string>($"{card}.querySelector('.server pre').textContent")).RootElement;
        var detail = await inspector.EvaluateAsync<string>($"{card}.querySelector('.detail').textContent");

        // The Pixel's copy is what the confirmation page handed fbq, with the order ID as its eventID.
        Assert.StartsWith("fbq(\"track\", \"Purchase\",", pixel, StringComparison.Ordinal);
        Assert.Contains(JsonSerializer.Serialize(new { eventID = orderId }), pixel, StringComparison.Ordinal);

        // The server's copy is the event Meta received, hashed; its answer's fbtrace_id is shown.
        Assert.Equal(orderId, server.GetProperty("event_id").GetString());
        Assert.Equal(sent.GetProperty("user_data").GetProperty("em")[0].GetString(), server.GetProperty("user_data").GetProperty("em")[0].GetString());
        Assert.Equal(Sha256("browser.buyer@example.com"), server.GetProperty("user_data").GetProperty("em")[0].GetString());
        Assert.Matches("fbtrace_id [A-Za-z0-9_-]+", detail);
        var text = await inspector.EvaluateAsync<string>("document.body.textContent");
        Assert.DoesNotContain("Browser.Buyer", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Lovelace", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("metaCapi.track", await inspector.EvaluateAsync<string>(
            $"document.querySelector('li.event[data-event-id=\"{addToCartId}\"] .pixel').textContent"), StringComparison.Ordinal);

        if (Environment.GetEnvironmentVariable(ScreenshotVariable) is { Length: > 0 } screenshot)
        {
            await inspector.ScreenshotAsync(screenshot, 1280, 1000);
        }

        // Live: the shopper opens another product; its ViewContent appears in the same document, without a reload.
        await inspector.EvaluateAsync<bool>("window.__sameDocument = true");
        await shopper.GotoAsync(new Uri(shop.BaseUrl, "/products/3"));
        var viewContentId = await shopper.EvaluateAsync<string>("JSON.parse(document.getElementById('meta-capi-data').textContent).events[0].eventId");
        await ShowsAsync(inspector, $"document.querySelector('li.event[data-event-name=\"ViewContent\"][data-event-id=\"{viewContentId}\"]')", "the ViewContent appears without a reload");
        Assert.True(await inspector.EvaluateAsync<bool>("window.__sameDocument === true"));
        Assert.Equal(viewContentId, await inspector.EvaluateAsync<string>("document.querySelector('li.event').dataset.eventId")); // newest on top

        var report = await inspector.ReportAsync();
        Assert.True(report.Errors.Length == 0, "Browser errors:\n" + string.Join("\n", report.Errors));
        Assert.Empty(report.Violations);
    }

    /// <summary>
    /// Waits until the page has the element. Polls from here: waiting inside the page (waitForFunction) would evaluate
    /// a string, which the inspector's Content Security Policy rightly refuses.
    /// </summary>
    private static Task ShowsAsync(BrowserPage page, string element, string what) =>
        Eventually.TrueAsync(() => page.EvaluateAsync<bool>($"!!{element}"), what);

    private static string Sha256(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
