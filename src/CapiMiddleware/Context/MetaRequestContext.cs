using Microsoft.AspNetCore.Http;
using CapiMiddleware.Cookies;
using CapiMiddleware.Events;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Context;

/// <summary>The per-request identifiers, stored on <see cref="HttpContext.Features"/> and computed lazily.</summary>
internal sealed class MetaRequestContext : IMetaRequestContext
{
    internal const string EventIdHeader = "X-Meta-Event-Id";

    private readonly HttpContext _httpContext;
    private string? _clickId;
    private string? _browserId;
    private bool _cookiesRead;
    private bool _addressRead;
    private string? _clientIpAddress;

    private MetaRequestContext(HttpContext httpContext) => _httpContext = httpContext;

    public static MetaRequestContext Get(HttpContext httpContext)
    {
        var context = httpContext.Features.Get<MetaRequestContext>();
        if (context is null)
        {
            context = new MetaRequestContext(httpContext);
            httpContext.Features.Set(context);
        }

        return context;
    }

    public string? ClickId
    {
        get
        {
            ReadCookies();
            return _clickId;
        }
    }

    public string? BrowserId
    {
        get
        {
            ReadCookies();
            return _browserId;
        }
    }

    public string? ClientIpAddress
    {
        get
        {
            if (!_addressRead)
            {
                var fromCookie = CookieHeader.TryGetValue(_httpContext.Request.Headers.Cookie, ClientAddress.CookieName, out var fbi)
                    ? ClientAddress.FromCookie(fbi)
                    : null;
                _clientIpAddress = ClientAddress.ForMeta(fromCookie, _httpContext.Connection.RemoteIpAddress, out var wasPrivate);
                IsClientAddressPrivate = wasPrivate;
                _addressRead = true;
            }

            return _clientIpAddress;
        }
    }

    /// <summary>Whether the connection came from a loopback or private address (so a proxy is not being unwrapped).</summary>
    public bool IsClientAddressPrivate { get; private set; }

    public string? UserAgent
    {
        get
        {
            var agent = _httpContext.Request.Headers.UserAgent.ToString();
            // A user agent this long is not a browser's; Meta would reject or ignore it.
            return agent.Length is > 0 and <= 1024 ? agent : null;
        }
    }

    public string? PageUrl
    {
        get
        {
            var request = _httpContext.Request;
            if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && SameSiteReferrer() is { } page)
            {
                return page;
            }

            return request.GetEncodedUrl();
        }
    }

    public string? Referrer
    {
        get
        {
            var request = _httpContext.Request;
            if (!HttpMethods.IsGet(request.Method))
            {
                return null;
            }

            var referrer = request.Headers.Referer.ToString();
            return IsHttpUrl(referrer) ? referrer : null;
        }
    }

    public string? BrowserEventId
    {
        get
        {
            var values = _httpContext.Request.Headers[EventIdHeader];
            return values.Count == 1 && EventIds.IsValidBrowserEventId(values[0]) ? values[0] : null;
        }
    }

    public IReadOnlyList<string> PixelIds
    {
        get
        {
            var options = _httpContext.RequestServices.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue;
            return Dispatch.PixelRouting.For(options).PixelIdsForHost(_httpContext.Request.Host.Host);
        }
    }

    /// <summary>Records the cookies that this response sets, so events of the same request carry them.</summary>
    public void SetCookieValues(string? clickId, string? browserId)
    {
        ReadCookies();
        _clickId = clickId ?? _clickId;
        _browserId = browserId ?? _browserId;
    }

    private void ReadCookies()
    {
        if (_cookiesRead)
        {
            return;
        }

        _cookiesRead = true;
        // Several values of one name (a host-only cookie beside a domain one): the same winner as the middleware picks.
        var header = _httpContext.Request.Headers.Cookie;
        var fbc = MetaCookies.SelectClickId(header, out _);
        if (!fbc.IsEmpty)
        {
            _clickId = fbc.ToString();
        }

        var fbp = MetaCookies.SelectBrowserId(header, out _);
        if (!fbp.IsEmpty)
        {
            _browserId = fbp.ToString();
        }
    }

    private string? SameSiteReferrer()
    {
        var referrer = _httpContext.Request.Headers.Referer.ToString();
        if (!Uri.TryCreate(referrer, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }

        var host = _httpContext.Request.Host;
        return string.Equals(uri.Host, host.Host, StringComparison.OrdinalIgnoreCase) ? referrer : null;
    }

    private static bool IsHttpUrl(string value) =>
        value.Length is > 0 and <= 4096
        && Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
