using System.Security.Cryptography;
using Microsoft.AspNetCore.HttpOverrides;
using Shop.Infrastructure;
using Shop.Models;

var builder = WebApplication.CreateBuilder(args);

// A form the shop cannot read (1,100 fields, a broken multipart body) or one without its antiforgery token: a 400 that
// says so, for every controller and page, instead of a 500 from an action that got no form.
builder.Services.AddControllersWithViews(o => o.Filters.Add<BadFormFilter>());
builder.Services.AddRazorPages(); // /newsletter
builder.Services.AddSingleton<Catalog>();
builder.Services.AddSingleton<Store>();

// The whole integration: options from the "MetaConversions" section (or MetaConversions__* variables).
builder.Services.AddMetaConversions(builder.Configuration.GetSection("MetaConversions"));

// The durable outboxes (packages CapiMiddleware.Outbox.Sqlite and .Redis): MetaConversions:Outbox:Provider = sqlite or
// redis chooses one; the default, memory, needs neither.
builder.Services.AddSqliteOutbox();
builder.Services.AddRedisOutbox();

// GET /health: Degraded while sending to Meta fails, Unhealthy while Meta refuses the access token.
builder.Services.AddHealthChecks().AddMetaConversions();

// Cookie consent, as an EU shop needs it: until the visitor accepts the banner, ASP.NET Core's CookiePolicy says "no
// consent", and the library sets no _fbc/_fbp cookies and sends no events. Shop:RequireConsent=false turns the banner off.
var requireConsent = builder.Configuration.GetValue("Shop:RequireConsent", true);
builder.Services.Configure<CookiePolicyOptions>(o => o.CheckConsentNeeded = _ => requireConsent);

// Behind a local reverse proxy, take the visitor's address from X-Forwarded-For (loopback proxies are trusted by default).
builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);

var app = builder.Build();

app.UseForwardedHeaders();

// A strict Content Security Policy with a nonce per request: the snippet and the Pixel work without 'unsafe-inline'.
app.Use((context, next) =>
{
    var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)); // hex: nothing for HTML to escape
    context.Items["csp-nonce"] = nonce;
    context.Response.Headers.ContentSecurityPolicy =
        $"default-src 'self'; script-src 'self' 'nonce-{nonce}' https://connect.facebook.net; " +
        "img-src 'self' https://www.facebook.com; connect-src 'self' https://www.facebook.com https://connect.facebook.net; " +
        "frame-src https://www.facebook.com; object-src 'none'; base-uri 'self'";
    return next(context);
});

app.UseStaticFiles();
app.UseCookiePolicy();       // before the library: it reads the visitor's consent (ITrackingConsentFeature)
app.UseMetaConversions();    // _fbc/_fbp cookies
app.MapMetaConversions();    // under /_capi/: the snippet, the beacon, the inspector (Development), the events of cached
                             // pages, and GET /_capi/ip for _fbi (MetaConversions:ClientIpEndpoint)
app.MapControllers();
app.MapHealthChecks("/health");
app.MapRazorPages();

app.Run();

/// <summary>The sample's entry point, public so tests can host it.</summary>
public partial class Program;
