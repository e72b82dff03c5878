using System.Net.Http.Json;
using System.Text.Json;
using CapiMiddleware.Tests.Infrastructure;
using CapiMiddleware.Tests.Sample;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// Issue 8's proof: in Chromium, a checkout with Meta's hosts blocked counts its Purchase as reaching Meta only through
/// the server; the same checkout with a stand-in fbevents.js that takes over the Pixel's queue stub counts it as both.
/// Its own shop, so the counts start at zero.
/// </summary>
public sealed class PixelReachInBrowserTests(Chromium chromium, SampleShop shop) : IClassFixture<Chromium>, IClassFixture<SampleShop>
{
    // What Meta's fbevents.js does to the base code's stub, minus the network: it gives it a callMethod and drains the queue.
    private const string StandInFbevents = """
        (function () {
          var f = window.fbq, calls = window.__pixelCalls = [];
          f.callMethod = function () { calls.push(Array.prototype.slice.call(arguments)); };
          f.queue.splice(0).forEach(function (a) { f.callMethod.apply(f, a); });
        })();
        """;

    [SkippableFact]
    public async Task A_checkout_with_the_Pixel_blocked_counts_as_server_only_and_with_the_Pixel_loaded_as_both()
    {
        chromium.Require();

        await using (var blocked = await chromium.NewPageAsync())
        {
            var orderId = await CheckOutAsync(blocked);
            Assert.False(await blocked.EvaluateAsync<bool>("typeof window.fbq.callMethod === 'function'"));
            var summary = await WaitForSummaryAsync(s => Purchases(s).ServerOnly == 1);
            Assert.Equal(0, Purchases(summary).Both);
            Assert.True(summary.GetProperty("pixelBlocked").GetInt64() >= 1);
            await shop.WaitForServerEventAsync(orderId);
        }

        await using (var loaded = await chromium.NewPageAsync(fbevents: StandInFbevents))
        {
            var orderId = await CheckOutAsync(loaded);
            var calls = await loaded.WaitForAsync<JsonElement[]>(
                "(window.__pixelCalls || []).filter(a => a[1] === 'Purchase').length > 0 && window.__pixelCalls.filter(a => a[1] === 'Purchase')");
            Assert.Equal(orderId, Assert.Single(calls)[3].GetProperty("eventID").GetString());
            var summary = await WaitForSummaryAsync(s => Purchases(s).Both == 1);
            Assert.Equal(1, Purchases(summary).ServerOnly);
            var views = summary.GetProperty("pageViews").GetInt64();
            Assert.True(views > summary.GetProperty("pixelBlocked").GetInt64(), summary.ToString());
        }
    }

    private async Task<string> CheckOutAsync(BrowserPage page)
    {
        await page.GotoAsync(new Uri(shop.BaseUrl, "/"));
        await ShopInBrowserTests.AcceptCookiesAsync(page);
        await page.GotoAsync(new Uri(shop.BaseUrl, "/checkout?productId=1"));
        await page.FillAsync(ShopInBrowserTests.CheckoutFields);
        await page.ClickAndWaitForLoadAsync("#place-order");
        return await page.EvaluateAsync<string>("document.getElementById('order-id').textContent");
    }

    private static (long Both, long ServerOnly) Purchases(JsonElement summary) =>
        summary.GetProperty("events").TryGetProperty("Purchase", out var purchase)
            ? (purchase.GetProperty("both").GetInt64(), purchase.GetProperty("serverOnly").GetInt64())
            : (0, 0);

    private async Task<JsonElement> WaitForSummaryAsync(Func<JsonElement, bool> condition)
    {
        using var http = new HttpClient { BaseAddress = shop.BaseUrl };
        JsonElement summary = default;
        await Eventually.TrueAsync(
            async () =>
            {
                summary = await http.GetFromJsonAsync<JsonElement>("/_capi/inspector/summary.json");
                return condition(summary);
            },
            "the summary counts the checkout",
            TimeSpan.FromSeconds(20));
        return summary;
    }
}
