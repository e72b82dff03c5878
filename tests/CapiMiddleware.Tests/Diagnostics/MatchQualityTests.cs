using System.Security.Claims;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Diagnostics.Metrics;

namespace CapiMiddleware.Tests.Diagnostics;

public sealed class MatchQualityTests
{
    [Fact]
    public void Email_phone_and_click_id_together_rate_great_and_browser_fields_alone_rate_poor()
    {
        var strong = MatchQuality.Estimate(f => f is "em" or "ph" or "fbc" or "fbp" or "client_ip_address" or "client_user_agent");
        Assert.Equal(MatchBand.Great, strong.Band);
        Assert.Equal(8.0, strong.Score);
        Assert.False(strong.LacksStrongIdentifiers);
        Assert.Equal(["external ID"], strong.Missing);

        var weak = MatchQuality.Estimate(f => f is "fbp" or "client_ip_address" or "client_user_agent");
        Assert.Equal(MatchBand.Poor, weak.Band);
        Assert.True(weak.LacksStrongIdentifiers);
        Assert.Equal("Poor (1.5/10): fbp client_ip_address client_user_agent; missing: email, phone, click ID (fbclid), external ID", weak.ToString());
    }

    [Fact]
    public void Every_identifier_together_scores_ten()
    {
        Assert.Equal(10.0, MatchQuality.Estimate(_ => true).Score);
        Assert.Equal(MatchBand.Poor, MatchQuality.Estimate(_ => false).Band);
    }
}

/// <summary>What site owners are told about their events, and identifiers that come from the signed-in user.</summary>
public sealed class MatchDiagnosticsTests
{
    [Fact]
    public async Task Each_event_gets_a_debug_line_and_identifier_metrics()
    {
        await using var app = await TestApp.StartAsync();
        using var identifiers = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), MetaConversionsDiagnostics.MeterName, "capimiddleware.events.identifiers");
        using var bands = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), MetaConversionsDiagnostics.MeterName, "capimiddleware.events.match_quality");

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        var line = Assert.Single(app.Logs.WithEventId(18));
        Assert.Contains("Purchase event ord-1: match quality estimate Good (6.5/10): em ph fbp client_ip_address client_user_agent", line.Message);
        Assert.Equal(["em", "ph", "fbp", "client_ip_address", "client_user_agent"], identifiers.GetMeasurementSnapshot().Select(m => (string)m.Tags["identifier"]!));
        var band = Assert.Single(bands.GetMeasurementSnapshot());
        Assert.Equal(("good", "Purchase"), ((string)band.Tags["band"]!, (string)band.Tags["event_name"]!));
    }

    [Fact]
    public async Task Purchases_without_email_phone_or_click_id_get_one_warning_not_one_per_event()
    {
        await using var app = await TestApp.StartAsync();
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        for (var i = 0; i < 3; i++)
        {
            var purchase = SampleEvents.Purchase($"ord-{i}", email: null);
            purchase.UserData.Phone = null;
            await queue.EnqueueAsync(purchase);
        }

        await queue.EnqueueAsync(SampleEvents.Purchase("ord-with-email"));
        var warning = Assert.Single(app.Logs.WithEventId(19));
        Assert.Contains("Purchase events are arriving without email, phone or click ID", warning.Message);
    }

    [Fact]
    public async Task A_signed_in_user_s_claims_fill_what_the_action_left_empty()
    {
        await using var app = await TestApp.StartAsync(beforeLibrary: SignInFromHeader);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=view") { Content = new FormUrlEncodedContent([]) };
        request.Headers.Add("X-Test-User", "1");
        (await app.Client.SendAsync(request)).EnsureSuccessStatusCode();

        var user = Assert.Single(await app.Graph!.WaitForEventsAsync(1, TimeSpan.FromSeconds(10))).GetProperty("user_data");
        // Normalized by the reference's rules (trimmed, lowercased, digits only), then SHA-256.
        Assert.Equal(Sha256("claims@example.com"), user.GetProperty("em")[0].GetString());
        Assert.Equal(Sha256("user-42"), user.GetProperty("external_id")[0].GetString());
        Assert.Equal(Sha256("ada"), user.GetProperty("fn")[0].GetString());
        Assert.Equal(Sha256("15550001111"), user.GetProperty("ph")[0].GetString());
    }

    [Fact]
    public async Task What_the_action_sets_wins_over_claims_and_claims_can_be_switched_off()
    {
        await using var app = await TestApp.StartAsync(beforeLibrary: SignInFromHeader);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=view")
        {
            Content = new FormUrlEncodedContent([new("email", "form@example.com")]),
        };
        request.Headers.Add("X-Test-User", "1");
        (await app.Client.SendAsync(request)).EnsureSuccessStatusCode();
        var user = Assert.Single(await app.Graph!.WaitForEventsAsync(1, TimeSpan.FromSeconds(10))).GetProperty("user_data");
        Assert.Equal(Sha256("form@example.com"), user.GetProperty("em")[0].GetString());

        await using var off = await TestApp.StartAsync(o => o.FillUserDataFromClaims = false, beforeLibrary: SignInFromHeader);
        using var second = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=view") { Content = new FormUrlEncodedContent([]) };
        second.Headers.Add("X-Test-User", "1");
        (await off.Client.SendAsync(second)).EnsureSuccessStatusCode();
        var none = Assert.Single(await off.Graph!.WaitForEventsAsync(1, TimeSpan.FromSeconds(10))).GetProperty("user_data");
        Assert.False(none.TryGetProperty("em", out _));
        Assert.False(none.TryGetProperty("external_id", out _));
    }

    [Fact]
    public async Task Without_a_token_the_console_shows_each_event_s_estimate()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        await Eventually.TrueAsync(() => app.Logs.WithEventId(20).Any(), "the estimate is shown");
        Assert.Contains("Purchase ord-1: match quality estimate Good (6.5/10)", app.Logs.WithEventId(20).Single().Message);
    }

    private static void SignInFromHeader(WebApplication app) => app.Use((context, next) =>
    {
        if (context.Request.Headers.ContainsKey("X-Test-User"))
        {
            context.User = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, "user-42"),
                new Claim(ClaimTypes.Email, "Claims@Example.com"),
                new Claim(ClaimTypes.GivenName, "Ada"),
                new Claim(ClaimTypes.MobilePhone, "+1 555 000 1111"),
            ], "Test"));
        }

        return next(context);
    });

    private static string Sha256(string normalized) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(normalized)));
}
