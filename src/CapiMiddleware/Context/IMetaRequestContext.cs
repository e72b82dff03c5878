namespace CapiMiddleware;

/// <summary>
/// Everything a conversion needs from the current web request, computed on first use. Read it with
/// <see cref="MetaConversionsHttpContextExtensions.GetMetaRequestContext(Microsoft.AspNetCore.Http.HttpContext)"/>.
/// </summary>
public interface IMetaRequestContext
{
    /// <summary>The click ID: the <c>_fbc</c> cookie's value, or the one this response sets; <see langword="null"/> when there is none.</summary>
    string? ClickId { get; }

    /// <summary>The browser ID: the <c>_fbp</c> cookie's value, or the one this response sets; <see langword="null"/> when there is none.</summary>
    string? BrowserId { get; }

    /// <summary>
    /// The visitor's IP address from <c>HttpContext.Connection.RemoteIpAddress</c> (IPv4-mapped IPv6 unwrapped);
    /// <see langword="null"/> for loopback and private addresses, which belong to a proxy or a developer, never a visitor.
    /// Behind a proxy, enable ASP.NET Core's ForwardedHeaders middleware with the proxy as a known proxy.
    /// </summary>
    string? ClientIpAddress { get; }

    /// <summary>The browser's user agent.</summary>
    string? UserAgent { get; }

    /// <summary>
    /// The URL of the page where the event happened: the request URL for a GET, otherwise the same-site <c>Referer</c>
    /// (a form post or a fetch happens on the page that sent it).
    /// </summary>
    string? PageUrl { get; }

    /// <summary>The page's referrer: the <c>Referer</c> of a GET request.</summary>
    string? Referrer { get; }

    /// <summary>
    /// The event ID that the snippet sent in the <c>X-Meta-Event-Id</c> header, when valid (1 to 64 URL-safe characters):
    /// the browser has already handed the Pixel its copy of the event with this ID.
    /// </summary>
    string? BrowserEventId { get; }

    /// <summary>
    /// The pixels this request's events go to, and that its page should initialize (<c>fbq('init', id)</c>):
    /// <c>MetaConversions:PixelId</c> and the <c>MetaConversions:Pixels</c> whose hosts match the request's host.
    /// Empty when no pixel is configured.
    /// </summary>
    IReadOnlyList<string> PixelIds { get; }
}
