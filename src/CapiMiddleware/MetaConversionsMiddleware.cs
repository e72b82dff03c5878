using CapiMiddleware.Context;
using CapiMiddleware.Cookies;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware;

/// <summary>
/// Serves the browser snippet and keeps Meta's first-party cookies: captures <c>fbclid</c> into <c>_fbc</c> and mints
/// <c>_fbp</c> on page views, for visitors who may be tracked (<see cref="TrackingConsent"/>: consent given, not a
/// crawler). A request with nothing to do costs a glance at a few headers and allocates nothing.
/// </summary>
internal sealed class MetaConversionsMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly SnippetFile _snippet;
    private readonly TimeProvider _time;
    private readonly TrackingConsent _consent;
    private readonly ILogger<MetaConversionsMiddleware> _logger;

    public MetaConversionsMiddleware(
        RequestDelegate next,
        IOptionsMonitor<MetaConversionsOptions> options,
        SnippetFile snippet,
        TimeProvider time,
        TrackingConsent consent,
        ILogger<MetaConversionsMiddleware> logger)
    {
        _next = next;
        _options = options;
        _snippet = snippet;
        _time = time;
        _consent = consent;
        _logger = logger;
    }

    public Task Invoke(HttpContext context)
    {
        var options = _options.CurrentValue;
        if (!options.Enabled)
        {
            return _next(context);
        }

        var path = context.Request.Path;
        if (path.StartsWithSegments(SnippetFile.BasePath, StringComparison.Ordinal))
        {
            if (_snippet.TryServe(context, path, out var served))
            {
                return served;
            }

            if (options.ReportPixelBlocking && path.Equals(PixelBeacon.Path, StringComparison.Ordinal))
            {
                return context.RequestServices.GetRequiredService<PixelBeacon>().ServeAsync(context);
            }
        }

        try
        {
            KeepCookies(context, options);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Cookies are a nicety; the site's own response is not. Never fail a request over them.
            _logger.LogDebug(ex, "Could not set Meta's first-party cookies for this request.");
        }

        return _next(context);
    }

    private void KeepCookies(HttpContext context, MetaConversionsOptions options)
    {
        var request = context.Request;
        var fbclid = FindClickId(request);
        var pageView = IsPageView(request);
        if (fbclid is null && !pageView)
        {
            return;
        }

        var cookies = request.Headers.Cookie;
        var hasBrowserId = CookieHeader.TryGetValue(cookies, MetaCookies.BrowserIdName, out var fbp) && MetaCookies.IsValid(fbp);
        if (fbclid is null && hasBrowserId)
        {
            return;
        }

        // Crawlers and visitors without tracking consent get no cookies; the click ID is not kept either.
        if (!_consent.Allows(context))
        {
            return;
        }

        if (!CookieHeader.TryGetValue(cookies, MetaCookies.ClickIdName, out var fbc) || !MetaCookies.IsValid(fbc))
        {
            fbc = default;
        }

        var host = request.Host.Host;
        var domain = MetaCookies.CookieDomainFor(options.CookieDomain, host);
        var decision = ClickIdCapture.Decide(
            fbc,
            hasBrowserId,
            fbclid,
            mintBrowserId: pageView,
            MetaCookies.SubdomainIndex(domain, host),
            _time.GetUtcNow().ToUnixTimeMilliseconds(),
            static () => Random.Shared.Next(int.MaxValue));
        if (!decision.HasWork)
        {
            return;
        }

        var cookieOptions = new CookieOptions
        {
            Path = "/",
            MaxAge = MetaCookies.Lifetime,
            SameSite = SameSiteMode.Lax,
            Secure = request.IsHttps,
            HttpOnly = false, // the Pixel reads them
            Domain = domain,
            // Consent was decided above (ConsentResolver included): CookiePolicy must not drop them on its own.
            IsEssential = true,
        };

        if (decision.ClickId is { } clickId)
        {
            context.Response.Cookies.Append(MetaCookies.ClickIdName, clickId, cookieOptions);
            Log.CookieSet(_logger, MetaCookies.ClickIdName);
        }

        if (decision.BrowserId is { } browserId)
        {
            context.Response.Cookies.Append(MetaCookies.BrowserIdName, browserId, cookieOptions);
            Log.CookieSet(_logger, MetaCookies.BrowserIdName);
        }

        MetaRequestContext.Get(context).SetCookieValues(decision.ClickId, decision.BrowserId);
    }

    /// <summary>
    /// A valid <c>fbclid</c> from the query; when the query has none (or an empty one), from the <c>Referer</c>'s query,
    /// as Meta's Parameter Builder looks for it. <see langword="null"/> when there is none, or when the one found is
    /// not <see cref="MetaCookies.IsValidFbclid">valid</see>: an invalid click ID in the query is ignored, not replaced
    /// by the Referer's.
    /// </summary>
    private static string? FindClickId(HttpRequest request)
    {
        const string Name = "fbclid";
        var query = request.QueryString.Value;
        if (QueryParameter.MayContain(query, Name) && QueryParameter.TryGetValue(query, Name, out var value) && value.Length > 0)
        {
            return MetaCookies.IsValidFbclid(value) ? value : null;
        }

        var referer = request.Headers.Referer;
        if (referer.Count == 1 && QueryParameter.MayContain(referer[0], Name))
        {
            // The query is what lies between '?' and '#'; a '?' inside the fragment starts no query.
            var url = referer[0].AsSpan();
            var end = url.IndexOf('#');
            if (end >= 0)
            {
                url = url[..end];
            }

            var start = url.IndexOf('?');
            if (start >= 0 && QueryParameter.TryGetValue(url[start..], Name, out value) && value.Length > 0)
            {
                return MetaCookies.IsValidFbclid(value) ? value : null;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether the request is a page navigation, the moment the Pixel would mint <c>_fbp</c>: not a script, image,
    /// API call or prefetch.
    /// </summary>
    private static bool IsPageView(HttpRequest request)
    {
        var dest = request.Headers["Sec-Fetch-Dest"];
        if (dest.Count > 0)
        {
            return dest[0] is "document";
        }

        return (HttpMethods.IsGet(request.Method) || HttpMethods.IsPost(request.Method))
            && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
    }
}
