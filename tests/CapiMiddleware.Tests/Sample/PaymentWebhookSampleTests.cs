using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Sample;

/// <summary>
/// Issue 16 in the sample shop: a visitor from an ad checks out with <c>payment=later</c>; the payment provider's
/// webhook, posted later by another client without cookies, reports the Purchase with that visitor's identifiers; the
/// pending page then shows the confirmation and hands the Pixel the Purchase with the same event ID.
/// </summary>
public sealed partial class PaymentWebhookSampleTests(SampleShop shop) : IClassFixture<SampleShop>
{
    private const string VisitorAddress = "203.0.113.77"; // the visitor, behind the sample's trusted loopback proxy

    [Fact]
    public async Task The_webhook_s_purchase_carries_the_visitor_who_checked_out_and_the_pending_page_the_pixel_s_copy()
    {
        var cookies = new CookieContainer();
        using var visitor = shop.CreateBrowser(cookies);
        visitor.DefaultRequestHeaders.Add("X-Forwarded-For", VisitorAddress);
        (await visitor.GetAsync("/?fbclid=PayLater_Click_1")).EnsureSuccessStatusCode();
        var fbc = cookies.GetCookies(shop.BaseUrl)["_fbc"]!.Value;
        var fbp = cookies.GetCookies(shop.BaseUrl)["_fbp"]!.Value;

        using var checkout = new HttpRequestMessage(HttpMethod.Post, "/checkout")
        {
            Content = TestApp.Form(("productId", "2"), ("email", "Later.Buyer@Example.com"), ("payment", "later")),
        };
        checkout.Headers.Referrer = new Uri(shop.BaseUrl, "/checkout?productId=2");
        using var placed = await visitor.SendAsync(checkout);
        Assert.Equal(HttpStatusCode.Redirect, placed.StatusCode);
        var pendingUrl = placed.Headers.Location!.ToString();
        var orderId = OrderInUrl().Match(pendingUrl).Groups[1].Value;
        var waiting = await visitor.GetStringAsync(pendingUrl);
        Assert.Contains("data-status=\"pending\"", waiting);
        Assert.DoesNotContain(PageData.Events(waiting), e => e.Name == "Purchase");

        // The provider, server to server: no cookies, another address, another user agent.
        using (var provider = new HttpClient { BaseAddress = shop.BaseUrl })
        using (var webhook = new HttpRequestMessage(HttpMethod.Post, "/payments/webhook") { Content = JsonContent.Create(new { orderId, status = "paid" }) })
        {
            webhook.Headers.Add("X-Webhook-Secret", "dev-webhook-secret");
            webhook.Headers.TryAddWithoutValidation("User-Agent", "PaymentProvider-Webhooks/2.0");
            using var paid = await provider.SendAsync(webhook);
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }

        var sent = await shop.WaitForServerEventAsync(orderId);
        var user = sent.GetProperty("user_data");
        Assert.Equal(("Purchase", "website"), (sent.GetProperty("event_name").GetString(), sent.GetProperty("action_source").GetString()));
        Assert.Equal(fbc, user.GetProperty("fbc").GetString());
        Assert.EndsWith(".PayLater_Click_1", fbc, StringComparison.Ordinal);
        Assert.Equal(fbp, user.GetProperty("fbp").GetString());
        Assert.Equal(VisitorAddress, user.GetProperty("client_ip_address").GetString());
        Assert.Equal(TestApp.UserAgent, user.GetProperty("client_user_agent").GetString());
        Assert.Equal(new Uri(shop.BaseUrl, "/checkout?productId=2").ToString(), sent.GetProperty("event_source_url").GetString());
        Assert.True(user.TryGetProperty("em", out _));

        // Back on the pending page: the confirmation, and the Pixel's Purchase with the order ID, and no second server copy.
        var confirmed = await visitor.GetStringAsync(pendingUrl);
        Assert.Contains("data-status=\"paid\"", confirmed);
        var pixel = Assert.Single(PageData.Events(confirmed), e => e.Name == "Purchase");
        Assert.Equal(orderId, pixel.EventId);
        await shop.WaitForServerEventAsync(orderId); // still exactly one
    }

    [Fact]
    public async Task The_webhook_refuses_a_wrong_secret_and_an_unknown_order_and_reports_a_repeated_delivery_once()
    {
        using var provider = new HttpClient { BaseAddress = shop.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostWebhookAsync(provider, "ord-x", "wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostWebhookAsync(provider, "ord-unknown", "dev-webhook-secret")).StatusCode);

        var cookies = new CookieContainer();
        using var visitor = shop.CreateBrowser(cookies);
        using var placed = await visitor.PostAsync("/checkout", TestApp.Form(("productId", "1"), ("email", "twice@example.com"), ("payment", "later")));
        var orderId = OrderInUrl().Match(placed.Headers.Location!.ToString()).Groups[1].Value;
        Assert.Equal(HttpStatusCode.OK, (await PostWebhookAsync(provider, orderId, "dev-webhook-secret")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostWebhookAsync(provider, orderId, "dev-webhook-secret")).StatusCode);
        await shop.WaitForServerEventAsync(orderId); // one Purchase (it asserts a single one)
    }

    [Fact]
    public async Task A_provider_returning_the_visitor_with_a_cross_site_post_mints_no_new_browser_id()
    {
        var cookies = new CookieContainer();
        using var visitor = shop.CreateBrowser(cookies);
        using var placed = await visitor.PostAsync("/checkout", TestApp.Form(("productId", "1"), ("payment", "later")));
        var pendingUrl = placed.Headers.Location!.ToString();

        // The provider's page posts the visitor back: a cross-site form post carries none of the shop's Lax cookies.
        using var back = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = shop.BaseUrl };
        foreach (var site in new[] { ("Sec-Fetch-Site", "cross-site"), ("Origin", "https://pay.provider.example") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, pendingUrl) { Content = TestApp.Form(("session", "cs_123")) };
            request.Headers.Add(site.Item1, site.Item2);
            request.Headers.Accept.ParseAdd("text/html");
            request.Headers.TryAddWithoutValidation("User-Agent", TestApp.UserAgent);
            request.Headers.Add("Cookie", $"{SampleShop.ConsentCookieName}={SampleShop.ConsentCookieValue}");
            using var response = await back.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith("_fbp=", StringComparison.Ordinal)), site.ToString());
        }
    }

    [Fact]
    public async Task A_pixel_event_carried_before_a_cross_site_return_still_fires_on_the_next_page_of_the_site()
    {
        var cookies = new CookieContainer();
        using var visitor = shop.CreateBrowser(cookies);
        using var registered = await visitor.PostAsync("/register", TestApp.Form(("email", "carry@example.com")));
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        Assert.NotNull(cookies.GetCookies(shop.BaseUrl)["_capi_px"]); // the Pixel's CompleteRegistration waits in the carry cookie
        using var placed = await visitor.PostAsync("/checkout", TestApp.Form(("productId", "1"), ("payment", "later")));

        // Back from the provider by a cross-site post: none of the shop's cookies come with it, none is touched.
        using (var back = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = shop.BaseUrl })
        using (var request = new HttpRequestMessage(HttpMethod.Post, placed.Headers.Location) { Content = TestApp.Form(("session", "cs_9")) })
        {
            request.Headers.Add("Sec-Fetch-Site", "cross-site");
            request.Headers.Accept.ParseAdd("text/html");
            using var response = await back.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var set = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
            Assert.DoesNotContain(set, c => c.StartsWith("_fbp=", StringComparison.Ordinal) || c.StartsWith("_fbc=", StringComparison.Ordinal) || c.StartsWith("_capi_px=", StringComparison.Ordinal));
        }

        // The next page of the site, with the visitor's cookies: the carried event fires there.
        var next = await visitor.GetStringAsync(registered.Headers.Location);
        Assert.Contains(PageData.Events(next), e => e.Name == "CompleteRegistration");
    }

    private static async Task<HttpResponseMessage> PostWebhookAsync(HttpClient provider, string orderId, string secret)
    {
        using var webhook = new HttpRequestMessage(HttpMethod.Post, "/payments/webhook") { Content = JsonContent.Create(new { orderId, status = "paid" }) };
        webhook.Headers.Add("X-Webhook-Secret", secret);
        return await provider.SendAsync(webhook);
    }

    [GeneratedRegex("/orders/([^/]+)/pending")]
    private static partial Regex OrderInUrl();
}
