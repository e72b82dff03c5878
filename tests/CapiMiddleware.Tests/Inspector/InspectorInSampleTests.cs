using System.Net;
using System.Text.Json;
using CapiMiddleware.Tests.Infrastructure;
using CapiMiddleware.Tests.Sample;

namespace CapiMiddleware.Tests.Inspector;

/// <summary>
/// The inspector in the sample shop as <c>dotnet run</c> starts it: Development, so on without any setting, and no
/// access token, so every event is "shown, not sent".
/// </summary>
public sealed class InspectorInSampleTests(ShowOnlySampleShop shop) : IClassFixture<ShowOnlySampleShop>
{
    [Fact]
    public async Task In_Development_it_is_on_with_its_own_CSP_and_shows_checkouts_and_registrations_shown_not_sent_with_hashed_fields_only()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        using (var page = await browser.GetAsync("/_capi/inspector"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var csp = page.Headers.GetValues("Content-Security-Policy").Single();
            Assert.StartsWith("default-src 'none'; script-src 'self';", csp, StringComparison.Ordinal); // not the shop's nonce policy
        }

        using var checkout = new HttpRequestMessage(HttpMethod.Post, "/checkout")
        {
            Content = new FormUrlEncodedContent([new("email", "Shown.Buyer@Example.com"), new("phone", "+1 555 123 4567"), new("lastName", "Hopper")]),
        };
        checkout.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using var confirmation = await browser.SendAsync(checkout);
        var orderId = Assert.Single(PageData.Events(await confirmation.Content.ReadAsStringAsync())).EventId;

        using (var register = await browser.PostAsync("/register", new FormUrlEncodedContent([new("email", "new.customer@example.com")])))
        {
            Assert.Equal(HttpStatusCode.Redirect, register.StatusCode);
        }

        JsonElement[] events = [];
        string json = "";
        await Eventually.TrueAsync(
            async () =>
            {
                json = await browser.GetStringAsync("/_capi/inspector/events.json");
                events = [.. JsonDocument.Parse(json).RootElement.GetProperty("events").EnumerateArray()];
                return events.Length == 2 && events.All(e => e.GetProperty("status").GetString() == "shown");
            },
            "both events are shown, not sent\n" + shop.Logs.AllText);

        Assert.False(JsonDocument.Parse(json).RootElement.GetProperty("sendsToMeta").GetBoolean());
        var registration = events[0]; // newest first
        Assert.Equal("CompleteRegistration", registration.GetProperty("eventName").GetString());
        Assert.Equal("redirect", registration.GetProperty("pixel").GetProperty("handover").GetString());

        var purchase = events[1];
        Assert.Equal(orderId, purchase.GetProperty("eventId").GetString());
        Assert.Equal(orderId, purchase.GetProperty("pixel").GetProperty("event").GetProperty("eventId").GetString());
        Assert.Equal(JsonValueKind.Null, purchase.GetProperty("fbtraceId").ValueKind);
        var user = purchase.GetProperty("server").GetProperty("user_data");
        Assert.Matches("^[0-9a-f]{64}$", user.GetProperty("em")[0].GetString());
        Assert.Matches("^[0-9a-f]{64}$", user.GetProperty("ln")[0].GetString());
        Assert.Equal("203.0.113.x", user.GetProperty("client_ip_address").GetString());
        Assert.Equal("Good", purchase.GetProperty("matchQuality").GetProperty("band").GetString());

        foreach (var raw in new[] { "shown.buyer", "new.customer", "Hopper", "5551234567", "203.0.113.9" })
        {
            Assert.DoesNotContain(raw, json, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Empty(shop.Graph.Requests);
    }
}
