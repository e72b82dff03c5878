using System.Net.Http.Json;
using System.Text.Json;
using CapiMiddleware.Tests.Sample;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// Issue 16 in Chromium on <c>www.shop.test</c>: a checkout paid "later" through the stand-in provider; the webhook
/// reports the server's Purchase; the pending page, once paid, fires the Pixel's Purchase with the same event ID.
/// </summary>
public sealed class PaymentWebhookInBrowserTests(Chromium chromium, SampleShop shop) : IClassFixture<Chromium>, IClassFixture<SampleShop>
{
    private Uri Shop(string path) => new($"http://www.shop.test:{shop.BaseUrl.Port}{path}");

    [SkippableFact]
    public async Task The_pending_page_s_pixel_purchase_and_the_webhook_s_server_purchase_share_the_event_id()
    {
        chromium.Require();
        await using var page = await chromium.NewPageAsync();
        await page.GotoAsync(Shop("/?fbclid=Webhook_Click_3"));
        await ShopInBrowserTests.AcceptCookiesAsync(page);
        await page.GotoAsync(Shop("/checkout?productId=3"));
        await page.FillAsync(ShopInBrowserTests.CheckoutFields);
        await page.ClickAndWaitForLoadAsync("#pay-later");
        Assert.Equal("pending", await page.EvaluateAsync<string>("document.getElementById('payment-status').dataset.status"));
        var orderId = await page.EvaluateAsync<string>("document.getElementById('order-id').textContent");

        using (var provider = new HttpClient { BaseAddress = shop.BaseUrl })
        using (var webhook = new HttpRequestMessage(HttpMethod.Post, "/payments/webhook") { Content = JsonContent.Create(new { orderId, status = "paid" }) })
        {
            webhook.Headers.Add("X-Webhook-Secret", "dev-webhook-secret");
            (await provider.SendAsync(webhook)).EnsureSuccessStatusCode();
        }

        var sent = await shop.WaitForServerEventAsync(orderId);
        await page.GotoAsync(Shop($"/orders/{orderId}/pending"));
        Assert.Equal("paid", await page.EvaluateAsync<string>("document.getElementById('payment-status').dataset.status"));
        var purchase = Assert.Single(await page.WaitForAsync<JsonElement[]>(
            "(window.fbq.queue || []).filter(a => a[1] === 'Purchase').length > 0 && JSON.parse(JSON.stringify(window.fbq.queue.filter(a => a[1] === 'Purchase').map(a => Array.from(a))))"));
        Assert.Equal(orderId, purchase[3].GetProperty("eventID").GetString());

        var cookies = await page.DocumentCookiesAsync();
        Assert.Equal(cookies["_fbc"], sent.GetProperty("user_data").GetProperty("fbc").GetString());
        Assert.Equal(cookies["_fbp"], sent.GetProperty("user_data").GetProperty("fbp").GetString());
        Assert.Equal(await page.EvaluateAsync<string>("navigator.userAgent"), sent.GetProperty("user_data").GetProperty("client_user_agent").GetString());
        var report = await page.ReportAsync();
        Assert.True(report.Errors.Length == 0, string.Join("\n", report.Errors));
    }
}
