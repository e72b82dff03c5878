using System.Diagnostics.Metrics;
using System.Net;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CapiMiddleware.Tests.Identity;

/// <summary>
/// Issue 16 in the library: the identity captured when a visitor starts paying joins the Purchase a webhook reports
/// later, from any request or none; an unknown key still sends a weaker event, with a warning and a count; a visitor
/// who had not consented is reported by neither.
/// </summary>
public sealed class PaymentConfirmationTests
{
    private const string VisitorAgent = "Mozilla/5.0 (Visitor) PaymentTest/1.0";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_webhook_s_purchase_carries_the_identity_captured_at_checkout()
    {
        await using var app = await TestApp.StartAsync();
        await PayAsync(app, "ord-500", cookie: "_fbc=fb.1.1700000000000.AdClick_5; _fbp=fb.1.1700000000000.424242");

        var queue = app.Services.GetRequiredService<IConversionQueue>();
        Assert.True(await queue.EnqueueAsync(Purchase().WithIdentityOf("ord-500")));

        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        var user = sent.GetProperty("user_data");
        Assert.Equal("ord-500", sent.GetProperty("event_id").GetString());
        Assert.Equal("website", sent.GetProperty("action_source").GetString());
        Assert.Equal("fb.1.1700000000000.AdClick_5", user.GetProperty("fbc").GetString());
        Assert.Equal("fb.1.1700000000000.424242", user.GetProperty("fbp").GetString());
        Assert.Equal(VisitorAgent, user.GetProperty("client_user_agent").GetString());
        Assert.Equal(new Uri(app.BaseUrl, "/checkout?step=pay").ToString(), sent.GetProperty("event_source_url").GetString());
        Assert.Equal(Sha256("buyer@example.com"), Assert.Single(user.GetProperty("em").EnumerateArray()).GetString());
        Assert.DoesNotContain("Buyer@Example.com", sent.GetRawText());

        // Used once: a second confirmation of the same key has no identity left.
        Assert.True(await queue.EnqueueAsync(Purchase().WithIdentityOf("ord-500")));
        var again = (await app.Graph.WaitForEventsAsync(2, Wait))[1];
        Assert.Equal("system_generated", again.GetProperty("action_source").GetString());
    }

    [Fact]
    public async Task An_unknown_key_is_sent_weaker_with_a_warning_and_a_count_never_dropped()
    {
        await using var app = await TestApp.StartAsync();
        using var joined = new MetricCollector<long>(app.Services.GetRequiredService<ConversionMetrics>().Meter, "capimiddleware.identities.joined");
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        Assert.True(await queue.EnqueueAsync(Purchase().WithIdentityOf("ord-unknown")));

        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("ord-unknown", sent.GetProperty("event_id").GetString());
        Assert.Equal("system_generated", sent.GetProperty("action_source").GetString());
        Assert.Single(app.Logs.WithEventId(92));
        Assert.Equal("missing", Assert.Single(joined.GetMeasurementSnapshot()).Tags["outcome"]);
    }

    [Fact]
    public async Task A_visitor_without_consent_leaves_no_identity_and_the_confirmation_sends_nothing()
    {
        await using var app = await TestApp.StartAsync(o => o.ConsentResolver = http => http.Request.Headers.ContainsKey("X-Test-Consent"));
        await PayAsync(app, "ord-noconsent", cookie: "_fbp=fb.1.1700000000000.777", consent: false);

        var queue = app.Services.GetRequiredService<IConversionQueue>();
        Assert.False(await queue.EnqueueAsync(Purchase().WithIdentityOf("ord-noconsent")));
        await app.StopAsync(); // drains: a sent event would have reached Graph
        Assert.Empty(app.Graph!.AcceptedEvents);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ord\r\n1")]
    public void A_bad_key_is_refused_at_the_call(string key) =>
        Assert.ThrowsAny<ArgumentException>(() => Purchase().WithIdentityOf(key));

    // The shop knows the order's email: the webhook passes it, so even without an identity the event can match.
    internal static ConversionEvent Purchase() => new(MetaEventNames.Purchase)
    {
        CustomData = new CustomData { Value = 49.90m, Currency = "EUR" },
        UserData = new UserData { Email = "buyer@example.com" },
    };

    internal static async Task PayAsync(TestApp app, string orderId, string cookie, bool consent = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/pay?orderId={orderId}") { Content = TestApp.Form() };
        request.Headers.Add("Cookie", cookie);
        request.Headers.UserAgent.Clear();
        request.Headers.TryAddWithoutValidation("User-Agent", VisitorAgent);
        request.Headers.Referrer = new Uri(app.BaseUrl, "/checkout?step=pay");
        if (consent)
        {
            request.Headers.Add("X-Test-Consent", "yes");
        }
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.UserAgent.Clear();
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static string Sha256(string value) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value)));
}
