using System.Net;
using CapiMiddleware.Context;
using CapiMiddleware.Cookies;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Serving;

/// <summary>
/// <c>GET /_capi/ip</c>: answers the caller's address as the server sees it (after ForwardedHeaders), as plain text,
/// never cached. Served on a dual-stack or IPv6-only host of the site, it tells the snippet the browser's IPv6
/// address, which the snippet keeps in <c>_fbi</c> so that the server's events carry the address the Pixel reaches
/// Meta from. Pages of the same registrable domain may read it across origins (<c>www.</c> asking <c>ipv6.</c>).
/// </summary>
internal static class ClientIpEcho
{
    public const string Path = SnippetFile.BasePath + "/ip";

    public static IResult Answer(HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers.Vary = "Origin";
        if (AllowedOrigin(context.Request) is { } origin)
        {
            response.Headers.AccessControlAllowOrigin = origin;
        }

        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return Results.NoContent();
        }

        address = ClientAddress.Unmapped(address);

        return Results.Text(address.ToString(), "text/plain; charset=utf-8");
    }

    /// <summary>An <c>Origin</c> on the request host's registrable domain (or the host itself), to reflect; else null.</summary>
    internal static string? AllowedOrigin(HttpRequest request)
    {
        var origins = request.Headers.Origin;
        if (origins.Count != 1 || !Uri.TryCreate(origins[0], UriKind.Absolute, out var origin) || origin.Scheme is not ("http" or "https"))
        {
            return null;
        }

        var host = request.Host.Host;
        if (string.Equals(origin.Host, host, StringComparison.OrdinalIgnoreCase))
        {
            return origins[0];
        }

        var site = PublicSuffixList.Default.RegistrableDomain(host);
        var originSite = PublicSuffixList.Default.RegistrableDomain(origin.Host);
        return !site.IsEmpty && site.Equals(originSite, StringComparison.OrdinalIgnoreCase) ? origins[0] : null;
    }
}
