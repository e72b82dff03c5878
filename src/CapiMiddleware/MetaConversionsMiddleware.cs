using CapiMiddleware.Context;
using CapiMiddleware.Cookies;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Hosting;
using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware;

/// <summary>
/// Keeps Meta's first-party cookies: captures <c>fbclid</c> into <c>_fbc</c> and mints <c>_fbp</c> on page views, for
/// visitors who may be tracked (<see cref="TrackingConsent"/>: consent given, not a crawler). A request with nothing to
/// do costs a glance at a few headers and allocates nothing. What the library serves is mapped as endpoints
/// (<see cref="LibraryEndpoints"/>), not here.
/// </summary>
internal sealed class MetaConversionsMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly TrackingConsent _consent;
    private readonly ILogger<MetaConversionsMiddleware> _logger;

    public MetaConversionsMiddleware(
        RequestDelegate next,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        TrackingConsent consent,
        ILogger<MetaConversionsMiddleware> logger)
    {
        _next = next;
        _options = options;
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

        try
        {
            KeepCookies(context, options);
        }
        catch (Exception ex) when (!ex.IsCancellationBy(context.RequestAborted))
        {
            // Cookies are a nicety; the site's own response is not. Never fail a request over them.
            _logger.LogDebug(ex, "Could not set Meta's first-party cookies for this request.");
        }

        return _next(context);
    }

    private void KeepCookies(HttpContext context, MetaConversionsOptions options)
    {
        var request = context.Request;
        if (IsCrossSitePost(request))
        {
            // A payment provider returning the visitor with a form post from its own site: the browser sends none of
            // this site's SameSite=Lax cookies, so an _fbp minted here would replace the visitor's real one.
            return;
        }

        var fbclid = FindClickId(request);
        var pageView = IsPageView(request);
        if ((fbclid is null && !pageView) || TakesNoCookies(request.Path))
        {
            return;
        }

        var cookies = request.Headers.Cookie;
        var fbp = MetaCookies.SelectBrowserId(cookies, out var browserIdCount);
        var hasBrowserId = !fbp.IsEmpty;
        var duplicates = browserIdCount > 1 || CookieHeader.HasSeveral(cookies, MetaCookies.ClickIdName);
        if (fbclid is null && hasBrowserId && !duplicates)
        {
            return;
        }

        // Crawlers and visitors without tracking consent get no cookies; the click ID is not kept either.
        if (!_consent.Allows(context))
        {
            return;
        }

        var fbc = MetaCookies.SelectClickId(cookies, out var clickIdCount);
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
        var converge = duplicates && domain is not null;
        if (!decision.HasWork && !converge)
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

        // Several values of one name: a host-only cookie beside the domain one. Expire the host-only one and (re)write
        // the winner on the domain, so the browser holds one value per name again.
        var clickId = decision.ClickId ?? (converge && clickIdCount > 1 ? Rewritable(fbc) : null);
        var browserId = decision.BrowserId ?? (converge && browserIdCount > 1 ? Rewritable(fbp) : null);
        WriteCookie(context, MetaCookies.ClickIdName, clickId, cookieOptions, expireHostOnly: converge && clickIdCount > 1);
        WriteCookie(context, MetaCookies.BrowserIdName, browserId, cookieOptions, expireHostOnly: converge && browserIdCount > 1);

        MetaRequestContext.Get(context).SetCookieValues(decision.ClickId, decision.BrowserId);
    }

    private void WriteCookie(HttpContext context, string name, string? value, CookieOptions options, bool expireHostOnly)
    {
        if (expireHostOnly && options.Domain is not null)
        {
            context.Response.Cookies.Delete(name, new CookieOptions { Path = "/", Secure = options.Secure, SameSite = options.SameSite, IsEssential = true });
        }

        if (value is not null)
        {
            context.Response.Cookies.Append(name, value, options);
            Log.CookieSet(_logger, name);
        }
    }

    /// <summary>
    /// The library's own snippet, beacon and inspector: their responses carry no cookie (the snippet's is cached publicly,
    /// and a beacon's Referer holding a <c>fbclid</c> is not a visit), as when the middleware served them itself.
    /// </summary>
    private static bool TakesNoCookies(PathString path) =>
        (path.Value?.StartsWith(SnippetFile.BasePath + "/meta-capi.", StringComparison.OrdinalIgnoreCase) ?? false)
        || path.StartsWithSegments(PixelBeacon.Path, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(Inspector.InspectorEndpoints.BasePath, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A kept value, to write again on the domain; <see langword="null"/> when writing it would change it (the response
    /// cookie API escapes characters outside the URL-safe set, and a valid value is never rewritten).
    /// </summary>
    private static string? Rewritable(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return null;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~'))
            {
                return null;
            }
        }

        return value.ToString();
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
            var url = referer[0].AsMemory();
            var end = url.Span.IndexOf('#');
            if (end >= 0)
            {
                url = url[..end];
            }

            var start = url.Span.IndexOf('?');
            if (start >= 0 && QueryParameter.TryGetValue(url[start..], Name, out value) && value.Length > 0)
            {
                return MetaCookies.IsValidFbclid(value) ? value : null;
            }
        }

        return null;
    }

    /// <summary>
    /// A POST that another site's page sent, which carries none of the site's SameSite=Lax cookies: <c>Sec-Fetch-Site:
    /// cross-site</c>, or, from browsers that send no such header (and Chromium over plain HTTP), an <c>Origin</c> that
    /// is opaque or on another registrable domain.
    /// </summary>
    private static bool IsCrossSitePost(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return false;
        }

        var site = request.Headers["Sec-Fetch-Site"];
        if (site.Count > 0)
        {
            return site[0] is "cross-site";
        }

        var origin = request.Headers.Origin;
        if (origin.Count != 1)
        {
            return false;
        }

        if (!Uri.TryCreate(origin[0], UriKind.Absolute, out var from))
        {
            return string.Equals(origin[0], "null", StringComparison.Ordinal);
        }

        var host = request.Host.Host;
        if (string.Equals(from.Host, host, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var ours = PublicSuffixList.Default.RegistrableDomain(host);
        return ours.IsEmpty || !ours.Equals(PublicSuffixList.Default.RegistrableDomain(from.Host), StringComparison.OrdinalIgnoreCase);
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
