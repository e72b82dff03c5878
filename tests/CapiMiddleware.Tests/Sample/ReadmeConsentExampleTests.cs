using System.Net;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Tests.Sample;

/// <summary>
/// The minimal-API consent endpoint of docs/consent.md (once in the README), as written there: with <c>UseAntiforgery</c> and a form parameter, a
/// post without the page's token is refused and grants nothing; the banner's own post (its token) grants consent.
/// </summary>
public sealed class ReadmeConsentExampleTests
{
    [Fact]
    public async Task The_minimal_API_consent_endpoint_requires_the_page_s_antiforgery_token()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddAntiforgery();
        builder.Services.AddMetaConversions(o => o.PixelId = "1234567890");
        builder.Services.Configure<CookiePolicyOptions>(o => o.CheckConsentNeeded = _ => true);
        await using var app = builder.Build();

        app.UseCookiePolicy();
        app.UseMetaConversions();
        app.UseAntiforgery();

        // As in docs/consent.md:
        app.MapPost("/consent", ([FromForm] string choice, HttpContext http) =>
        {
            var consent = http.Features.Get<ITrackingConsentFeature>();
            if (choice == "accept")
            {
                consent?.GrantConsent();
            }
            else
            {
                consent?.WithdrawConsent();
            }

            return Results.NoContent();
        });

        // The page with the banner: its token, for the banner's script (here, the test) to post back.
        app.MapGet("/", (HttpContext http, IAntiforgery antiforgery) => Results.Text(antiforgery.GetAndStoreTokens(http).RequestToken!));
        await app.StartAsync();
        var server = app.GetTestServer();

        var forged = await PostAsync(server, cookie: null, token: null);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.DoesNotContain(forged.Headers.Where(h => h.Key == "Set-Cookie").SelectMany(h => h.Value), c => c.StartsWith(".AspNet.Consent=", StringComparison.Ordinal));

        var page = await server.CreateRequest("/").GetAsync();
        var antiforgeryCookie = page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal)).Split(';')[0];
        var token = await page.Content.ReadAsStringAsync();

        var withCookieOnly = await PostAsync(server, antiforgeryCookie, token: null); // what another site's form sends
        Assert.Equal(HttpStatusCode.BadRequest, withCookieOnly.StatusCode);

        var accepted = await PostAsync(server, antiforgeryCookie, token);
        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        Assert.Contains(accepted.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNet.Consent=yes", StringComparison.Ordinal));
    }

    [Fact]
    public void Docs_consent_page_still_shows_the_endpoint_this_test_runs()
    {
        var page = File.ReadAllText(Path.Combine(NodeProcess.RepositoryRoot, "docs", "consent.md"));

        Assert.Contains("app.UseAntiforgery();", page, StringComparison.Ordinal);
        Assert.Contains("app.MapPost(\"/consent\", ([FromForm] string choice, HttpContext http) =>", page, StringComparison.Ordinal);
        Assert.Contains("if (choice == \"accept\") consent?.GrantConsent(); else consent?.WithdrawConsent();", page, StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> PostAsync(TestServer server, string? cookie, string? token)
    {
        var fields = new Dictionary<string, string> { ["choice"] = "accept" };
        if (token is not null)
        {
            fields["__RequestVerificationToken"] = token;
        }

        var request = server.CreateRequest("/consent").And(m => m.Content = new FormUrlEncodedContent(fields));
        if (cookie is not null)
        {
            request.AddHeader("Cookie", cookie);
        }

        return request.PostAsync();
    }
}
