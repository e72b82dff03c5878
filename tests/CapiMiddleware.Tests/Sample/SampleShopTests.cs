using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CapiMiddleware.Hashing;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using CapiMiddleware.Tests.Reference;

namespace CapiMiddleware.Tests.Sample;

/// <summary>The Foundation issue's "done when", tried on the sample shop as a new user would.</summary>
public sealed partial class SampleShopTests(SampleShop shop, ParameterBuilder reference)
    : IClassFixture<SampleShop>, IClassFixture<ParameterBuilder>
{
    [Fact]
    public async Task Arriving_from_an_ad_sets_fbc_and_fbp_and_later_visits_keep_or_replace_them()
    {
        var jar = new CookieContainer();
        using var browser = shop.CreateBrowser(jar);

        using (var landing = await browser.GetAsync("/?fbclid=AbC-123_xyz"))
        {
            Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        }

        var fbc = Cookie(jar, "_fbc");
        var fbp = Cookie(jar, "_fbp");
        Assert.Matches(@"^fb\.\d\.\d{13}\.AbC-123_xyz$", fbc);
        Assert.Matches(@"^fb\.\d\.\d{13}\.\d+$", fbp);

        using (var again = await browser.GetAsync("/?fbclid=AbC-123_xyz"))
        {
            Assert.False(again.Headers.Contains("Set-Cookie"));
        }

        using (var newClick = await browser.GetAsync("/products/1?fbclid=NewClick"))
        {
            Assert.Matches(@"^fb\.\d\.\d{13}\.NewClick$", Cookie(jar, "_fbc"));
            Assert.Equal(fbp, Cookie(jar, "_fbp"));
        }
    }

    [Fact]
    public async Task Each_checkout_sends_one_purchase_that_matches_the_page_cookies_and_Meta_s_hashing()
    {
        var jar = new CookieContainer();
        using var browser = shop.CreateBrowser(jar);
        (await browser.GetAsync("/?fbclid=AbC-123_xyz")).Dispose();

        var form = new Dictionary<string, string>
        {
            ["productId"] = "2",
            ["email"] = " Jane.Doe@Example.com ",
            ["phone"] = "+1 (555) 123-4567",
            ["firstName"] = "José",
            ["lastName"] = "Doe",
            ["city"] = "New York",
            ["state"] = "New York",
            ["zip"] = "10001-1234",
            ["country"] = "United States",
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/checkout") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using var response = await browser.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var orderId = OrderId().Match(html).Groups[1].Value;
        var pixel = Assert.Single(PageData.Events(html));
        Assert.Equal(("track", "Purchase", orderId), (pixel.Method, pixel.Name, pixel.EventId));

        var purchase = await shop.WaitForServerEventAsync(orderId);
        Assert.Equal("Purchase", purchase.GetProperty("event_name").GetString());
        Assert.Equal("website", purchase.GetProperty("action_source").GetString());
        Assert.Equal(new Uri(shop.BaseUrl, "/checkout").ToString(), purchase.GetProperty("event_source_url").GetString());

        var user = purchase.GetProperty("user_data");
        Assert.Equal(Cookie(jar, "_fbc"), user.GetProperty("fbc").GetString());
        Assert.Equal(Cookie(jar, "_fbp"), user.GetProperty("fbp").GetString());
        Assert.Equal(TestApp.UserAgent, user.GetProperty("client_user_agent").GetString());
        Assert.Equal("203.0.113.9", user.GetProperty("client_ip_address").GetString());

        var expected = await reference.HashAsync(
            (UserDataField.Email, form["email"]), (UserDataField.Phone, form["phone"]), (UserDataField.FirstName, form["firstName"]),
            (UserDataField.LastName, form["lastName"]), (UserDataField.City, form["city"]), (UserDataField.State, form["state"]),
            (UserDataField.Zip, form["zip"]), (UserDataField.Country, form["country"]));
        string[] fields = ["em", "ph", "fn", "ln", "ct", "st", "zp", "country"];
        for (var i = 0; i < fields.Length; i++)
        {
            Assert.NotNull(expected[i]);
            Assert.Equal(expected[i], user.GetProperty(fields[i])[0].GetString());
        }

        var custom = purchase.GetProperty("custom_data");
        Assert.Equal(48.00m, custom.GetProperty("value").GetDecimal());
        Assert.Equal("USD", custom.GetProperty("currency").GetString());
        Assert.Equal(orderId, custom.GetProperty("order_id").GetString());
        Assert.Equal(pixel.Data.GetRawText(), custom.GetRawText());
    }

    [Fact]
    public async Task A_checkout_with_an_unknown_product_sends_nothing()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        var marker = "nobody-" + Guid.NewGuid().ToString("N");
        using var response = await browser.PostAsync("/checkout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["productId"] = "no-such-product",
            ["email"] = marker + "@example.com",
        }));

        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Unknown product", html);
        Assert.Empty(PageData.Events(html));
    }

    [Fact]
    public async Task Product_pages_report_ViewContent_with_the_same_id_on_both_sides()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        var html = await browser.GetStringAsync("/products/3");

        var pixel = Assert.Single(PageData.Events(html));
        Assert.Equal("ViewContent", pixel.Name);
        var sent = await shop.WaitForServerEventAsync(pixel.EventId);
        Assert.Equal("3", sent.GetProperty("custom_data").GetProperty("content_ids")[0].GetString());
    }

    [Fact]
    public async Task Add_to_cart_uses_the_event_id_the_snippet_sent()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        var eventId = "cart-" + Guid.NewGuid().ToString("N")[..12];
        using var request = new HttpRequestMessage(HttpMethod.Post, "/cart")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["productId"] = "1" }),
        };
        request.Headers.Add("X-Meta-Event-Id", eventId);
        using var response = await browser.SendAsync(request);

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(eventId, body.GetProperty("eventId").GetString());
        var sent = await shop.WaitForServerEventAsync(eventId);
        Assert.Equal("AddToCart", sent.GetProperty("event_name").GetString());
    }

    [Fact]
    public async Task Registration_hands_the_pixel_its_event_after_the_redirect_once_with_the_customer_id()
    {
        var jar = new CookieContainer();
        using var browser = shop.CreateBrowser(jar);
        using var posted = await browser.PostAsync("/register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "new.customer@example.com",
            ["dateOfBirth"] = "1990-02-28",
            ["gender"] = "Female",
        }));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var location = posted.Headers.Location!.ToString();

        var welcome = await browser.GetStringAsync(location);
        var customerId = CustomerId().Match(welcome).Groups[1].Value;
        var pixel = Assert.Single(PageData.Events(welcome));
        Assert.Equal(("track", "CompleteRegistration"), (pixel.Method, pixel.Name));

        var sent = await shop.WaitForServerEventAsync(pixel.EventId);
        var expected = await reference.HashAsync((UserDataField.ExternalId, customerId), (UserDataField.DateOfBirth, "1990-02-28"), (UserDataField.Gender, "Female"));
        var user = sent.GetProperty("user_data");
        Assert.Equal(expected[0], user.GetProperty("external_id")[0].GetString());
        Assert.Equal(expected[1], user.GetProperty("db")[0].GetString());
        Assert.Equal(expected[2], user.GetProperty("ge")[0].GetString());

        Assert.Empty(PageData.Events(await browser.GetStringAsync(location)));
    }

    [Fact]
    public async Task A_slow_Graph_endpoint_does_not_slow_the_checkout()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        // Graph holds every request until the test lets it go, after the page is back: a checkout that waited on Graph
        // would not be back (until the guard below gave up, and then with its event accepted). How long a checkout
        // takes is measured by the load harness (-- latency), not asserted here.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        shop.Graph.Responder = _ =>
        {
            release.Task.Wait(TimeSpan.FromSeconds(30));
            return null; // then validated and answered as usual
        };

        string orderId;
        try
        {
            using var response = await browser.PostAsync("/checkout", new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "slow@example.com" }));
            orderId = OrderId().Match(await response.Content.ReadAsStringAsync()).Groups[1].Value;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain(shop.Graph.AcceptedEvents, e => e.GetProperty("event_id").GetString() == orderId);
        }
        finally
        {
            shop.Graph.Responder = null;
            release.SetResult();
        }

        await shop.WaitForServerEventAsync(orderId);
    }

    [Fact]
    public async Task The_layout_loads_the_pixel_and_the_snippet_under_a_strict_content_security_policy()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        using var response = await browser.GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = Regex.Match(csp, "'nonce-([^']+)'").Groups[1].Value;

        Assert.DoesNotContain("unsafe-inline", csp);
        // No inline script at all: the snippet loads the Pixel (consent and Limited Data Use before init).
        Assert.DoesNotMatch("<script(?![^>]*\\b(src=|type=\"application/json\"))[^>]*>", html);
        Assert.True(PageData.Read(html).GetProperty("loadPixel").GetBoolean());
        Assert.Matches($"<script src=\"/_capi/meta-capi\\.[0-9a-f]{{12}}\\.js\" defer nonce=\"{Regex.Escape(nonce)}\"></script>", html);
        Assert.Equal("1234567890", PageData.Read(html).GetProperty("pixelId").GetString());
    }

    [Fact]
    public async Task A_second_storefront_host_initializes_and_reports_to_its_own_pixel_too()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/products/2") { Headers = { Host = SampleShop.SecondStoreHost } };
        using var response = await browser.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal( // the snippet inits both
            ["1234567890", SampleShop.SecondStorePixelId],
            PageData.Read(html).GetProperty("pixelIds").EnumerateArray().Select(p => p.GetString()));
        var pixel = Assert.Single(PageData.Events(html));
        await shop.WaitForServerEventAsync(pixel.EventId);
        await Eventually.TrueAsync(
            () => shop.Graph.Requests.Any(r => r.PixelId == SampleShop.SecondStorePixelId && r.Events.Any(e => e.GetProperty("event_id").GetString() == pixel.EventId)),
            "the second store's pixel gets its copy");

        var home = await browser.GetStringAsync("/");
        Assert.Equal(["1234567890"], PageData.Read(home).GetProperty("pixelIds").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task The_health_endpoint_reports_how_sending_to_Meta_goes()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        using var response = await browser.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_newsletter_razor_page_reports_a_lead_after_its_redirect_and_nothing_for_showing_or_a_bad_address()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        var form = await browser.GetStringAsync("/newsletter");
        Assert.Empty(PageData.Events(form));
        var token = AntiforgeryToken().Match(form).Groups[1].Value;

        using (var invalid = await browser.PostAsync("/newsletter", new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("email", "nobody")])))
        {
            Assert.Equal(HttpStatusCode.OK, invalid.StatusCode);
            Assert.Empty(PageData.Events(await invalid.Content.ReadAsStringAsync()));
        }

        using (var subscribed = await browser.PostAsync("/newsletter", new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("email", " Reader@Example.com ")])))
        {
            Assert.Equal(HttpStatusCode.Redirect, subscribed.StatusCode);
            Assert.Equal("/newsletter?subscribed=True", subscribed.Headers.Location?.OriginalString);
        }

        var thanks = await browser.GetStringAsync("/newsletter?subscribed=True");
        var pixel = Assert.Single(PageData.Events(thanks));
        Assert.Equal(("track", "Lead"), (pixel.Method, pixel.Name));
        var lead = await shop.WaitForServerEventAsync(pixel.EventId);
        Assert.Equal(UserDataHasher.NormalizeAndHash(UserDataField.Email, "reader@example.com"), lead.GetProperty("user_data").GetProperty("em")[0].GetString());
        Assert.EndsWith("/newsletter", lead.GetProperty("event_source_url").GetString(), StringComparison.Ordinal);
    }

    private static string Cookie(CookieContainer jar, string name) =>
        jar.GetAllCookies().Single(c => c.Name == name).Value;

    [GeneratedRegex("<strong id=\"order-id\">([^<]+)</strong>")]
    private static partial Regex OrderId();

    [GeneratedRegex("<strong id=\"customer-id\">([^<]+)</strong>")]
    private static partial Regex CustomerId();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
