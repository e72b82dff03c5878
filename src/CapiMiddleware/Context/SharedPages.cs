using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Net.Http.Headers;

namespace CapiMiddleware.Context;

/// <summary>
/// Whether a response's HTML may be shared between visitors, so it must carry no per-visitor state (event IDs, consent,
/// user data): the ASP.NET Core output cache stores it, its <c>Cache-Control</c> lets a shared cache keep it
/// (<c>public</c> or <c>s-maxage</c>), or its endpoint is marked <see cref="SharedPageCacheAttribute"/> (a CDN caches it
/// whatever the headers say).
/// </summary>
internal static class SharedPages
{
    public static bool IsShared(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<SharedPageCacheAttribute>() is not null)
        {
            return true;
        }

        if (context.Features.Get<IOutputCacheFeature>()?.Context is { EnableOutputCaching: true, AllowCacheStorage: true })
        {
            return true;
        }

        var cacheControl = context.Response.Headers.CacheControl;
        return cacheControl.Count > 0
            && CacheControlHeaderValue.TryParse(cacheControl.ToString(), out var parsed)
            && !parsed.NoStore && !parsed.Private
            && (parsed.Public || parsed.SharedMaxAge is not null);
    }
}
