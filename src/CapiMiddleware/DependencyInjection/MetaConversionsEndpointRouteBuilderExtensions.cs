using CapiMiddleware;
using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the endpoints the library serves, so the application's own authorization, rate limiting and CORS apply to them.</summary>
public static class MetaConversionsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the library's endpoints under <c>/_capi</c>: <c>POST /_capi/events</c>, where the snippet sends the server's
    /// copy of the conversions that pages shared between visitors declare (<see cref="SharedPageCacheAttribute"/>), and
    /// <c>GET /_capi/ip</c>, which answers the caller's IP address for the snippet's <c>_fbi</c> cookie
    /// (<see cref="MetaConversionsOptions.ClientIpEndpoint"/>). The snippet, the beacon and the inspector are still
    /// served by <c>UseMetaConversions()</c>.
    /// </summary>
    /// <example>
    /// <code>
    /// app.UseMetaConversions();
    /// app.MapMetaConversions().RequireRateLimiting("capi"); // the app's own policies apply
    /// </code>
    /// </example>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <returns>The group of the library's endpoints, to add conventions to.</returns>
    public static RouteGroupBuilder MapMetaConversions(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup(SnippetFile.BasePath);
        group.MapGet("/ip", ClientIpEcho.Answer).ExcludeFromDescription().WithDisplayName("Meta Conversions: the caller's IP address");
        group.MapPost("/events", (HttpContext context, BrowserEvents events) => events.ReceiveAsync(context))
            .ExcludeFromDescription().DisableAntiforgery().WithDisplayName("Meta Conversions: events of shared pages");
        return group;
    }
}
