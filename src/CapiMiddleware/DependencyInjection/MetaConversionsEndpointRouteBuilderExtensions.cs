using CapiMiddleware;
using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the endpoints the library serves, so the application's own authorization, rate limiting and CORS apply to them.</summary>
public static class MetaConversionsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps what the library serves under <c>/_capi</c>: the browser snippet (<c>GET /_capi/meta-capi.&lt;hash&gt;.js</c>
    /// and <c>/_capi/meta-capi.js</c>), the Pixel beacon (<c>POST /_capi/beacon</c>), the events of shared pages
    /// (<c>POST /_capi/events</c>), the IP echo (<c>GET /_capi/ip</c>) and the inspector (<c>/_capi/inspector</c>). Call it
    /// once, beside <c>app.UseMetaConversions()</c>, which keeps the cookies.
    /// </summary>
    /// <remarks>
    /// The paths are fixed: <c>&lt;meta-pixel /&gt;</c> and the snippet name them. An endpoint that is switched off (the
    /// library by <see cref="MetaConversionsOptions.Enabled"/>, the beacon by
    /// <see cref="MetaConversionsOptions.ReportPixelBlocking"/>, the inspector by <see cref="MetaConversionsOptions.Inspector"/>)
    /// is passed by when routing matches, so its path is the application's. An application that calls only
    /// <c>UseMetaConversions()</c> still gets the snippet, the beacon and the inspector, mapped by it without the
    /// application's policies, and a warning at start-up that names this method.
    /// </remarks>
    /// <example>
    /// <code>
    /// app.UseMetaConversions();
    /// var capi = app.MapMetaConversions().RequireRateLimiting("capi"); // the app's own policies apply
    /// capi.Inspector.RequireAuthorization("Ops");                      // to one endpoint only
    /// </code>
    /// </example>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <returns>A builder of the library's endpoints, to add conventions to all of them or, through its properties, to one.</returns>
    public static MetaConversionsEndpointConventionBuilder MapMetaConversions(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<LibraryEndpointsMapping>() is not { } mapping)
        {
            throw new InvalidOperationException(
                "MapMetaConversions() needs the library's services: call builder.Services.AddMetaConversions(...) in Program.cs.");
        }

        mapping.MarkExplicit();
        return LibraryEndpoints.Map(endpoints);
    }
}
