using CapiMiddleware;
using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the Meta Conversions API middleware to the pipeline.</summary>
public static class MetaConversionsApplicationBuilderExtensions
{
    /// <summary>
    /// Keeps Meta's first-party cookies: <c>_fbc</c> from <c>fbclid</c>, <c>_fbp</c> on page views. Place it after
    /// <c>UseForwardedHeaders</c> and <c>UseStaticFiles</c>, before the endpoints, and map what the library serves (the
    /// snippet, the beacon, the inspector) with <see cref="MetaConversionsEndpointRouteBuilderExtensions.MapMetaConversions"/>.
    /// </summary>
    /// <remarks>
    /// When the application does not call <c>MapMetaConversions()</c>, and <paramref name="app"/> can map endpoints (a
    /// <c>WebApplication</c>), this maps the snippet, the beacon and the inspector itself, as earlier versions served them,
    /// and logs a warning at start-up. An application builder that cannot map endpoints gets an error in the log instead:
    /// the snippet is not served until <c>MapMetaConversions()</c> is called in <c>UseEndpoints</c>.
    /// </remarks>
    /// <param name="app">The application.</param>
    /// <returns>The application, for chaining.</returns>
    public static IApplicationBuilder UseMetaConversions(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetService<LibraryEndpointsMapping>() is not { } mapping)
        {
            throw new InvalidOperationException(
                "UseMetaConversions() needs the library's services: call builder.Services.AddMetaConversions(...) in Program.cs.");
        }

        // Pages of an application written before the snippet became an endpoint must not lose it.
        if (app is IEndpointRouteBuilder endpoints)
        {
            LibraryEndpoints.MapImplicitly(endpoints, mapping);
        }

        mapping.ReportWhenStarted(app.ApplicationServices.GetService<IHostApplicationLifetime>());
        return app.UseMiddleware<MetaConversionsMiddleware>();
    }
}
