using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CapiMiddleware.Inspector;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Tests.Inspector;

/// <summary>
/// The inspector outside Development (the test app runs in Production): off unless asked for, and then only behind
/// its authorization policy; what it shows of a real send to the fake Graph API.
/// </summary>
public sealed class InspectorTests
{
    private const string Policy = "CapiInspector";
    private const string RolesHeader = "X-Test-Roles";

    [Fact]
    public async Task Outside_Development_it_is_off_by_default_its_paths_are_the_application_s_and_nothing_is_recorded()
    {
        await using var app = await TestApp.StartAsync();
        using (var purchase = await app.Client.PostAsync("/purchase?orderId=ord-off", null))
        {
            Assert.Equal(HttpStatusCode.OK, purchase.StatusCode);
        }

        using var unknown = await app.Client.GetAsync("/_capi/no-such-thing");
        foreach (var path in new[] { "/_capi/inspector", "/_capi/inspector/events.json", "/_capi/inspector/inspector.js" })
        {
            using var response = await app.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(await unknown.Content.ReadAsStringAsync(), await response.Content.ReadAsStringAsync());
        }

        Assert.Empty(app.Services.GetRequiredService<RecentEvents>().Since(0).Events);
        Assert.Empty(app.Logs.WithEventId(60));
    }

    [Fact]
    public async Task Enabled_outside_Development_without_a_policy_it_stays_off_and_the_log_says_how_to_turn_it_on()
    {
        await using var app = await TestApp.StartAsync(o => o.Inspector.Enabled = true);

        using var response = await app.Client.GetAsync("/_capi/inspector");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var line = Assert.Single(app.Logs.WithEventId(60));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("MetaConversions:Inspector:AuthorizationPolicy", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Behind_a_policy_anonymous_requests_are_challenged_others_forbidden_and_its_users_served_with_a_strict_CSP()
    {
        await using var app = await StartWithPolicyAsync();

        foreach (var path in new[] { "/_capi/inspector", "/_capi/inspector/events.json", "/_capi/inspector/inspector.js" })
        {
            using var anonymous = await app.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            using var shopper = await SendAsync(app, path, "shopper");
            Assert.Equal(HttpStatusCode.Forbidden, shopper.StatusCode);
        }

        using var page = await SendAsync(app, "/_capi/inspector", "ops");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"/_capi/inspector/inspector.js\" defer></script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);

        using var script = await SendAsync(app, "/_capi/inspector/inspector.js", "ops");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("innerHTML", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var styles = await SendAsync(app, "/_capi/inspector/inspector.css", "ops");
        Assert.Equal("text/css", styles.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_event_shows_its_hashed_server_copy_its_Pixel_copy_and_Meta_s_answer_with_its_fbtrace_id()
    {
        await using var app = await StartWithPolicyAsync();
        const string Email = "  Raw.Person@Example.COM ";

        string eventId;
        using (var lead = await app.Client.PostAsync("/lead?outcome=json", new FormUrlEncodedContent([new("email", Email), new("note", "<b>hi</b>")])))
        {
            eventId = JsonDocument.Parse(await lead.Content.ReadAsStringAsync()).RootElement.GetProperty("eventId").GetString()!;
        }

        var shown = await WaitForEventAsync(app, eventId, "sent");

        Assert.Equal("Lead", shown.GetProperty("eventName").GetString());
        var answer = Assert.Single(app.Graph!.Requests, r => r.Body.Contains(eventId, StringComparison.Ordinal));
        var fbtraceId = JsonDocument.Parse(answer.ResponseBody!).RootElement.GetProperty("fbtrace_id").GetString();
        Assert.Equal(fbtraceId, shown.GetProperty("fbtraceId").GetString());
        Assert.Equal(1, shown.GetProperty("sendAttempts").GetInt32());

        var server = shown.GetProperty("server");
        Assert.Equal(eventId, server.GetProperty("event_id").GetString());
        var hashed = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("raw.person@example.com")));
        Assert.Equal(hashed, server.GetProperty("user_data").GetProperty("em")[0].GetString());
        Assert.Equal("<b>hi</b>", server.GetProperty("custom_data").GetProperty("note").GetString());

        var pixel = shown.GetProperty("pixel");
        Assert.Equal("page", pixel.GetProperty("handover").GetString());
        Assert.Equal(eventId, pixel.GetProperty("event").GetProperty("eventId").GetString());
        Assert.Equal("track", pixel.GetProperty("event").GetProperty("method").GetString());

        var quality = shown.GetProperty("matchQuality");
        Assert.Contains("em", quality.GetProperty("identifiers").EnumerateArray().Select(i => i.GetString()));

        var json = await GetEventsJsonAsync(app);
        Assert.DoesNotContain("raw.person", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>", json, StringComparison.Ordinal); // escaped in the JSON as well
    }

    [Fact]
    public async Task An_event_Meta_refuses_shows_Graph_s_message_and_a_purchase_Meta_would_refuse_shows_why_it_was_not_queued()
    {
        await using var app = await StartWithPolicyAsync();
        app.Graph!.EnqueueResponse(FakeResponse.GraphError(GraphErrorCodes.InvalidParameter, message: "Invalid parameter: fbc is malformed"));

        using (var purchase = await app.Client.PostAsync("/purchase?orderId=ord-refused", null))
        {
            Assert.Equal(HttpStatusCode.OK, purchase.StatusCode);
        }

        var refused = await WaitForEventAsync(app, "ord-refused", "rejected");
        Assert.Contains("Invalid parameter: fbc is malformed", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(refused.GetProperty("fbtraceId").GetString()));

        using (var invalid = await app.Client.PostAsync("/purchase-without-value", null))
        {
            Assert.Equal(HttpStatusCode.OK, invalid.StatusCode);
        }

        var notQueued = Assert.Single(await EventsAsync(app), e => e.GetProperty("status").GetString() == "invalid");
        Assert.Contains("value and a currency", notQueued.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, notQueued.GetProperty("server").ValueKind);
        Assert.Equal(JsonValueKind.Null, notQueued.GetProperty("pixel").ValueKind);
    }

    [Fact]
    public async Task Summary_json_and_each_event_show_what_the_pages_beacons_said_behind_the_same_policy()
    {
        await using var app = await StartWithPolicyAsync();
        (await app.Client.PostAsync("/purchase?orderId=ord-blocked", null)).EnsureSuccessStatusCode();
        (await app.Client.PostAsync("/purchase?orderId=ord-both", null)).EnsureSuccessStatusCode();
        (await app.Client.PostAsync("/purchase?orderId=ord-unreported", null)).EnsureSuccessStatusCode();

        await BeaconAsync(app, "{\"v\":1,\"blocked\":true,\"ids\":[\"ord-blocked\"]}");
        await BeaconAsync(app, "{\"v\":1,\"blocked\":false,\"ids\":[\"ord-both\"]}");
        await BeaconAsync(app, "{\"v\":1,\"blocked\":false,\"ids\":[]}");

        using (var anonymous = await app.Client.GetAsync("/_capi/inspector/summary.json"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var response = await SendAsync(app, "/_capi/inspector/summary.json", "ops");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var summary = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(3, summary.GetProperty("pageViews").GetInt64());
        Assert.Equal(1, summary.GetProperty("pixelBlocked").GetInt64());
        var purchases = summary.GetProperty("events").GetProperty("Purchase");
        Assert.Equal((1L, 1L), (purchases.GetProperty("both").GetInt64(), purchases.GetProperty("serverOnly").GetInt64()));

        var json = JsonDocument.Parse(await GetEventsJsonAsync(app)).RootElement;
        Assert.Equal(summary.GetRawText(), json.GetProperty("summary").GetRawText());
        var events = json.GetProperty("events").EnumerateArray().ToDictionary(e => e.GetProperty("eventId").GetString()!, e => e.GetProperty("browserCopy"));
        Assert.Equal("serverOnly", events["ord-blocked"].GetString());
        Assert.Equal("both", events["ord-both"].GetString());
        Assert.Equal(JsonValueKind.Null, events["ord-unreported"].ValueKind);
    }

    private static async Task BeaconAsync(TestApp app, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_capi/beacon")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "text/plain"),
            Headers = { { "Sec-Fetch-Site", "same-origin" } }, // as the browser says of the page's own sendBeacon
        };
        using var response = await app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static Task<TestApp> StartWithPolicyAsync() => TestApp.StartAsync(
        o =>
        {
            o.Inspector.Enabled = true;
            o.Inspector.AuthorizationPolicy = Policy;
        },
        services: s =>
        {
            s.AddAuthentication(RolesHeaderHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, RolesHeaderHandler>(RolesHeaderHandler.SchemeName, null);
            s.AddAuthorization(o => o.AddPolicy(Policy, p => p.RequireRole("ops")));
        });

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, string path, string roles)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(RolesHeader, roles);
        return await app.Client.SendAsync(request);
    }

    private static async Task<string> GetEventsJsonAsync(TestApp app)
    {
        using var response = await SendAsync(app, "/_capi/inspector/events.json", "ops");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<JsonElement[]> EventsAsync(TestApp app) =>
        [.. JsonDocument.Parse(await GetEventsJsonAsync(app)).RootElement.GetProperty("events").EnumerateArray()];

    private static async Task<JsonElement> WaitForEventAsync(TestApp app, string eventId, string status)
    {
        JsonElement found = default;
        await Eventually.TrueAsync(
            async () =>
            {
                found = (await EventsAsync(app)).FirstOrDefault(e => e.GetProperty("eventId").GetString() == eventId);
                return found.ValueKind == JsonValueKind.Object && found.GetProperty("status").GetString() == status;
            },
            $"the inspector shows {eventId} as {status}\n{app.Logs.AllText}");
        return found;
    }

    /// <summary>Signs in whoever sends <c>X-Test-Roles</c>, with those roles.</summary>
    private sealed class RolesHeaderHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "RolesHeader";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(RolesHeader, out var roles))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var claims = roles.ToString().Split(',').Select(r => new Claim(ClaimTypes.Role, r)).Append(new Claim(ClaimTypes.Name, "tester"));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
        }
    }
}
