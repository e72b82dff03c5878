using System.Net;
using System.Text;
using System.Threading.RateLimiting;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Serving;

/// <summary>
/// What the library serves is mapped as endpoints (<c>app.MapMetaConversions()</c>): the application's own
/// authorization, rate limiting and CORS apply to them, to all at once or to one; an application that calls only
/// <c>UseMetaConversions()</c> keeps its snippet and is told at start-up what to change.
/// </summary>
public sealed class LibraryEndpointsTests
{
    private const int EndpointsMappedImplicitly = 120;
    private const int EndpointsNotMapped = 121;

    private static string SnippetPath(TestApp app) =>
        app.Services.GetRequiredService<CapiMiddleware.Serving.SnippetFile>().VersionedPath;

    private static HttpRequestMessage Beacon(string body = """{"v":1,"blocked":false,"ids":[]}""") => new(HttpMethod.Post, "/_capi/beacon")
    {
        Content = new StringContent(body, Encoding.UTF8, "text/plain"),
        Headers = { { "Sec-Fetch-Site", "same-origin" } },
    };

    [Fact]
    public async Task Mapped_as_documented_every_endpoint_answers_and_nothing_is_said_at_start()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);

        using var snippet = await app.Client.GetAsync(SnippetPath(app));
        Assert.Equal(HttpStatusCode.OK, snippet.StatusCode);
        using var beacon = await app.Client.SendAsync(Beacon());
        Assert.Equal(HttpStatusCode.NoContent, beacon.StatusCode);
        using var ip = await app.Client.GetAsync("/_capi/ip");
        Assert.Equal(HttpStatusCode.OK, ip.StatusCode);
        Assert.Empty(app.Logs.WithEventId(EndpointsMappedImplicitly));
        Assert.Empty(app.Logs.WithEventId(EndpointsNotMapped));
    }

    [Fact]
    public async Task An_app_that_calls_only_UseMetaConversions_keeps_its_snippet_beacon_and_inspector_and_is_warned_once()
    {
        await using var app = await TestApp.StartAsync(
            o => o.Inspector = new InspectorOptions { Enabled = true, AuthorizationPolicy = "Ops" },
            sendToGraph: false,
            services: s => s.AddAuthorization(o => o.AddPolicy("Ops", p => p.RequireAssertion(_ => true))),
            mapLibraryEndpoints: false);

        var html = await app.Client.GetStringAsync("/page");
        Assert.Contains(SnippetPath(app), html, StringComparison.Ordinal);
        using var snippet = await app.Client.GetAsync(SnippetPath(app));
        Assert.Equal(HttpStatusCode.OK, snippet.StatusCode);
        Assert.Equal("public, max-age=31536000, immutable", snippet.Headers.CacheControl?.ToString());
        using var stable = await app.Client.GetAsync("/_capi/meta-capi.js");
        Assert.Equal(HttpStatusCode.OK, stable.StatusCode);
        using var beacon = await app.Client.SendAsync(Beacon());
        Assert.Equal(HttpStatusCode.NoContent, beacon.StatusCode);
        using var inspector = await app.Client.GetAsync("/_capi/inspector/summary.json");
        Assert.Equal(HttpStatusCode.OK, inspector.StatusCode);

        // What UseMetaConversions() never served stays unmapped: the app asks for it with MapMetaConversions().
        using var ip = await app.Client.GetAsync("/_capi/ip");
        Assert.Equal(HttpStatusCode.NotFound, ip.StatusCode);

        var warning = Assert.Single(app.Logs.WithEventId(EndpointsMappedImplicitly));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("app.MapMetaConversions()", warning.Message, StringComparison.Ordinal);
        Assert.Empty(app.Logs.WithEventId(EndpointsNotMapped));
    }

    [Fact]
    public async Task Mapped_before_UseMetaConversions_the_endpoints_are_mapped_once()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false, beforeLibrary: a => a.MapMetaConversions(), mapLibraryEndpoints: false);

        using var snippet = await app.Client.GetAsync(SnippetPath(app)); // two copies of an endpoint would be an ambiguous match: 500
        Assert.Equal(HttpStatusCode.OK, snippet.StatusCode);
        Assert.Empty(app.Logs.WithEventId(EndpointsMappedImplicitly));
    }

    [Fact]
    public async Task An_app_builder_that_cannot_map_endpoints_gets_an_error_naming_MapMetaConversions_until_it_maps_them_in_UseEndpoints()
    {
        var (withoutEndpoints, logs) = await StartStartupStyleAsync(app => app.UseMetaConversions());
        using (withoutEndpoints)
        {
            using var snippet = await withoutEndpoints.GetTestClient().GetAsync("/_capi/meta-capi.js");
            Assert.Equal(HttpStatusCode.NotFound, snippet.StatusCode);
            var error = Assert.Single(logs.WithEventId(EndpointsNotMapped));
            Assert.Equal(LogLevel.Error, error.Level);
            Assert.Contains("MapMetaConversions()", error.Message, StringComparison.Ordinal);
            await withoutEndpoints.StopAsync();
        }

        var (mapped, mappedLogs) = await StartStartupStyleAsync(app =>
        {
            app.UseRouting();
            app.UseMetaConversions();
            app.UseEndpoints(e => e.MapMetaConversions());
        });
        using (mapped)
        {
            using var snippet = await mapped.GetTestClient().GetAsync("/_capi/meta-capi.js");
            Assert.Equal(HttpStatusCode.OK, snippet.StatusCode);
            Assert.Empty(mappedLogs.WithEventId(EndpointsNotMapped));
            Assert.Empty(mappedLogs.WithEventId(EndpointsMappedImplicitly));
            await mapped.StopAsync();
        }
    }

    [Fact]
    public async Task Forgetting_AddMetaConversions_is_explained_by_MapMetaConversions_too()
    {
        await using var app = WebApplication.CreateSlimBuilder().Build();
        var error = Assert.Throws<InvalidOperationException>(() => app.MapMetaConversions());
        Assert.Contains("AddMetaConversions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequireAuthorization_on_all_guards_the_inspector_while_visitors_keep_the_snippet_the_beacon_and_the_ip_echo()
    {
        await using var app = await TestApp.StartAsync(
            o => o.Inspector = new InspectorOptions { Enabled = true, AuthorizationPolicy = "Anyone" },
            sendToGraph: false,
            services: AddHeaderAuthentication,
            endpoints: a => a.MapMetaConversions().RequireAuthorization("Ops"),
            mapLibraryEndpoints: false);

        using (var snippet = await app.Client.GetAsync(SnippetPath(app)))
        {
            Assert.Equal(HttpStatusCode.OK, snippet.StatusCode);
        }

        using (var beacon = await app.Client.SendAsync(Beacon()))
        {
            Assert.Equal(HttpStatusCode.NoContent, beacon.StatusCode);
        }

        using (var ip = await app.Client.GetAsync("/_capi/ip"))
        {
            Assert.Equal(HttpStatusCode.OK, ip.StatusCode);
        }

        // The inspector's own policy lets anyone in; the app's convention does not.
        using (var anonymous = await app.Client.GetAsync("/_capi/inspector/summary.json"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var ops = new HttpRequestMessage(HttpMethod.Get, "/_capi/inspector/summary.json") { Headers = { { RolesHeaderHandler.Header, "ops" } } };
        using var allowed = await app.Client.SendAsync(ops);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task A_fallback_policy_locks_no_visitor_out_of_the_snippet_the_beacon_or_the_events_of_shared_pages()
    {
        await using var app = await TestApp.StartAsync(
            sendToGraph: false,
            services: s =>
            {
                AddHeaderAuthentication(s);
                s.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
            });

        using (var snippet = await app.Client.GetAsync("/_capi/meta-capi.js"))
        {
            Assert.Equal(HttpStatusCode.OK, snippet.StatusCode);
        }

        using (var beacon = await app.Client.SendAsync(Beacon()))
        {
            Assert.Equal(HttpStatusCode.NoContent, beacon.StatusCode);
        }

        using var events = new HttpRequestMessage(HttpMethod.Post, "/_capi/events")
        {
            Content = new StringContent("""{"v":1,"events":[]}""", Encoding.UTF8, "application/json"),
            Headers = { { "Sec-Fetch-Site", "same-origin" } },
        };
        using var answer = await app.Client.SendAsync(events);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    [Fact]
    public async Task A_policy_on_one_endpoint_applies_to_that_endpoint_alone()
    {
        await using var app = await TestApp.StartAsync(
            sendToGraph: false,
            services: s => s.AddRateLimiter(o =>
            {
                o.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable; // not the beacon's own 429
                o.AddPolicy("one", _ => RateLimitPartition.GetFixedWindowLimiter("all", _ => new FixedWindowRateLimiterOptions { PermitLimit = 1, Window = TimeSpan.FromHours(1), QueueLimit = 0 }));
            }),
            beforeLibrary: a => a.UseRateLimiter(),
            endpoints: a => a.MapMetaConversions().Beacon.RequireRateLimiting("one"),
            mapLibraryEndpoints: false);

        using var first = await app.Client.SendAsync(Beacon());
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        using var second = await app.Client.SendAsync(Beacon());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        for (var i = 0; i < 2; i++)
        {
            using var snippet = await app.Client.GetAsync("/_capi/meta-capi.js");
            Assert.Equal(HttpStatusCode.OK, snippet.StatusCode);
        }
    }

    [Fact]
    public async Task The_app_s_CORS_policy_answers_the_preflight_of_a_library_endpoint()
    {
        await using var app = await TestApp.StartAsync(
            sendToGraph: false,
            services: s => s.AddCors(o => o.AddPolicy("shop", p => p.WithOrigins("https://www.shop.example").WithMethods("POST").AllowAnyHeader())),
            beforeLibrary: a => a.UseCors(),
            endpoints: a => a.MapMetaConversions().RequireCors("shop"),
            mapLibraryEndpoints: false);

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/_capi/events")
        {
            Headers = { { "Origin", "https://www.shop.example" }, { "Access-Control-Request-Method", "POST" } },
        };
        using var answer = await app.Client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("https://www.shop.example", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Switched_off_the_inspector_s_and_the_beacon_s_paths_are_the_application_s_fallback()
    {
        await using var app = await TestApp.StartAsync(
            o => o.ReportPixelBlocking = false,
            sendToGraph: false,
            endpoints: a => a.MapFallback("{**path}", () => "the app's own"));

        foreach (var path in new[] { "/_capi/inspector", "/_capi/inspector/", "/_capi/inspector/events.json" })
        {
            Assert.Equal("the app's own", await app.Client.GetStringAsync(path));
        }

        using var beacon = await app.Client.SendAsync(Beacon());
        Assert.Equal("the app's own", await beacon.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_inspector_policy_that_a_provider_finds_later_serves_it_and_one_it_never_finds_leaves_the_path_to_the_app()
    {
        await using var app = await TestApp.StartAsync(
            o => o.Inspector = new InspectorOptions { Enabled = true, AuthorizationPolicy = "Anyone" },
            sendToGraph: false,
            services: s =>
            {
                AddHeaderAuthentication(s);
                s.AddSingleton<IAuthorizationPolicyProvider, YieldingPolicyProvider>();
            },
            endpoints: a => a.MapFallback("{**path}", () => "the app's own"));

        using (var served = await app.Client.GetAsync("/_capi/inspector/summary.json"))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("application/json", served.Content.Headers.ContentType?.MediaType);
        }

        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<MetaConversionsOptions>>().CurrentValue;
        options.Inspector.AuthorizationPolicy = "NotRegistered";
        Assert.Equal("the app's own", await app.Client.GetStringAsync("/_capi/inspector/summary.json"));
        Assert.Contains(app.Logs.WithEventId(61), l => l.Message.Contains("NotRegistered", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_snippet_answers_every_method_but_GET_and_HEAD_with_405_and_an_older_hash_with_a_short_cache()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);

        using var post = await app.Client.PostAsync(SnippetPath(app), new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow.Order());

        using var head = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, SnippetPath(app)));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);

        using var older = await app.Client.GetAsync("/_capi/meta-capi.0123456789ab.js");
        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
        Assert.Equal("public, max-age=300", older.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task The_inspector_page_answers_with_and_without_a_trailing_slash()
    {
        await using var app = await TestApp.StartAsync(
            o => o.Inspector = new InspectorOptions { Enabled = true, AuthorizationPolicy = "Anyone" },
            sendToGraph: false,
            services: AddHeaderAuthentication);

        foreach (var path in new[] { "/_capi/inspector", "/_capi/inspector/" })
        {
            using var page = await app.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Neither_the_snippet_nor_the_beacon_sets_a_cookie_when_the_page_came_from_an_ad()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);
        var page = new Uri(app.BaseUrl, "/products/1?fbclid=IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk");

        using var script = new HttpRequestMessage(HttpMethod.Get, SnippetPath(app)) { Headers = { Referrer = page } };
        script.Headers.Add("Sec-Fetch-Dest", "script");
        using var served = await app.CreateClient().SendAsync(script);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.False(served.Headers.Contains("Set-Cookie"));

        using var beacon = Beacon();
        beacon.Headers.Referrer = page;
        using var counted = await app.CreateClient().SendAsync(beacon);
        Assert.Equal(HttpStatusCode.NoContent, counted.StatusCode);
        Assert.False(counted.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task A_client_posts_thirty_events_of_shared_pages_a_minute_of_the_app_s_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(sendToGraph: false, services: s => s.AddSingleton<TimeProvider>(time));

        for (var i = 0; i < 30; i++)
        {
            using var accepted = await PostEventsAsync(app);
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        using (var refused = await PostEventsAsync(app))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(60), refused.Headers.RetryAfter?.Delta);
        }

        time.Advance(TimeSpan.FromMinutes(1));
        using var again = await PostEventsAsync(app);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    private static Task<HttpResponseMessage> PostEventsAsync(TestApp app) => app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/_capi/events")
    {
        Content = new StringContent("""{"v":1,"events":[]}""", Encoding.UTF8, "application/json"),
        Headers = { { "Sec-Fetch-Site", "same-origin" } },
    });

    /// <summary>A host as apps wrote them before minimal hosting: a Startup-style <c>Configure</c> on a plain application builder.</summary>
    private static async Task<(IHost Host, LogCapture Logs)> StartStartupStyleAsync(Action<IApplicationBuilder> configure)
    {
        var logs = new LogCapture();
        var host = new HostBuilder()
            .ConfigureLogging(l => l.AddProvider(logs))
            .ConfigureWebHost(web => web
                .UseTestServer()
                .ConfigureServices(s => s.AddRouting().AddMetaConversions(o => o.PixelId = "1234567890"))
                .Configure(configure))
            .Build();
        await host.StartAsync();
        return (host, logs);
    }

    private static void AddHeaderAuthentication(IServiceCollection services)
    {
        services.AddAuthentication(RolesHeaderHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, RolesHeaderHandler>(RolesHeaderHandler.SchemeName, null);
        services.AddAuthorization(o =>
        {
            o.AddPolicy("Ops", p => p.RequireRole("ops"));
            o.AddPolicy("Anyone", p => p.RequireAssertion(_ => true));
        });
    }

    /// <summary>The app's policies, found only after a yield: the routing switch of the inspector awaits it.</summary>
    private sealed class YieldingPolicyProvider(Microsoft.Extensions.Options.IOptions<AuthorizationOptions> options) : DefaultAuthorizationPolicyProvider(options)
    {
        public override async Task<AuthorizationPolicy?> GetPolicyAsync(string policyName)
        {
            await Task.Yield();
            return await base.GetPolicyAsync(policyName);
        }
    }

    /// <summary>Signs in whoever sends <c>X-Test-Roles</c>, with those roles.</summary>
    private sealed class RolesHeaderHandler(
        Microsoft.Extensions.Options.IOptionsMonitor<AuthenticationSchemeOptions> options,
        ILoggerFactory logger,
        System.Text.Encodings.Web.UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "RolesHeader";
        public const string Header = "X-Test-Roles";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(Header, out var roles))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var claims = roles.ToString().Split(',').Select(r => new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, r));
            var principal = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(claims, SchemeName));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
        }
    }
}
