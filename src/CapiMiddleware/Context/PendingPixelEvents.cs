using System.Security.Cryptography;
using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Context;

/// <summary>
/// Carries the Pixel's copy of events across a redirect (POST-redirect-GET checkouts): a short-lived, HttpOnly,
/// data-protected cookie that the next page's tag helper reads once and deletes. Protected so nobody can plant
/// events in it; it holds no personal data, only what the Pixel would be handed anyway.
/// </summary>
internal sealed class PendingPixelEvents
{
    public const string CookieName = "_capi_px";
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    // Browsers keep cookies up to about 4 KB; leave room for the name and attributes.
    private const int MaxCookieValueLength = 3800;

    private readonly IDataProtector _protector;
    private readonly ILogger<PendingPixelEvents> _logger;

    public PendingPixelEvents(IDataProtectionProvider dataProtection, ILogger<PendingPixelEvents> logger)
    {
        _protector = dataProtection.CreateProtector("CapiMiddleware.PendingPixelEvents.v1");
        _logger = logger;
    }

    /// <summary>Adds events for the page after the redirect, keeping any not yet shown.</summary>
    public void Carry(HttpContext context, IReadOnlyList<PixelEvent> events)
    {
        // What this response carries already (several events, or a page that took the old ones), else what came in.
        var scope = ConversionScope.Get(context);
        var all = scope.CarriedPixelEvents ??= Read(context);
        all.AddRange(events);
        var json = JsonSerializer.SerializeToUtf8Bytes(all, GraphJsonContext.Default.ListPixelEvent);
        var value = Convert.ToBase64String(_protector.Protect(json)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        if (value.Length > MaxCookieValueLength)
        {
            Log.PixelEventsTooLarge(_logger, events.Count);
            return;
        }

        context.Response.Cookies.Append(CookieName, value, new CookieOptions
        {
            Path = "/",
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            MaxAge = Lifetime,
            IsEssential = true, // only carried for a request that may be tracked (TrackingConsent)
        });
    }

    /// <summary>Takes the carried events, once: the cookie is deleted when the response can still say so.</summary>
    public List<PixelEvent> Take(HttpContext context)
    {
        var scope = ConversionScope.Get(context);
        var carriedHere = scope.CarriedPixelEvents is { Count: > 0 };
        var events = scope.CarriedPixelEvents ?? Read(context);
        scope.CarriedPixelEvents = [];
        if ((carriedHere || context.Request.Cookies.ContainsKey(CookieName)) && !context.Response.HasStarted)
        {
            context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });
        }

        return events;
    }

    private List<PixelEvent> Read(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value) || value.Length > MaxCookieValueLength)
        {
            return [];
        }

        try
        {
            var base64 = value.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var json = _protector.Unprotect(Convert.FromBase64String(base64));
            return JsonSerializer.Deserialize(json, GraphJsonContext.Default.ListPixelEvent) ?? [];
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            Log.PendingPixelEventsUnreadable(_logger);
            return [];
        }
    }
}
