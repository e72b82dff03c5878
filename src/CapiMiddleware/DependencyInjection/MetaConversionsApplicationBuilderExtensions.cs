using CapiMiddleware;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the Meta Conversions API middleware to the pipeline.</summary>
public static class MetaConversionsApplicationBuilderExtensions
{
    /// <summary>
    /// Serves the browser snippet under <c>/_capi/</c> and keeps Meta's first-party cookies (<c>_fbc</c> from
    /// <c>fbclid</c>, <c>_fbp</c> on page views). Serves the inspector at <c>/_capi/inspector</c> when it is on
    /// (<see cref="MetaConversionsOptions.Inspector"/>). Place it after <c>UseForwardedHeaders</c> and
    /// <c>UseStaticFiles</c>, before the endpoints.
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The application, for chaining.</returns>
    public static IApplicationBuilder UseMetaConversions(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetService(typeof(CapiMiddleware.Context.ConversionRecorder)) is null)
        {
            throw new InvalidOperationException(
                "UseMetaConversions() needs the library's services: call builder.Services.AddMetaConversions(...) in Program.cs.");
        }

        app.UseMiddleware<CapiMiddleware.Inspector.InspectorMiddleware>(); // passes everything outside /_capi/inspector on at once
        return app.UseMiddleware<MetaConversionsMiddleware>();
    }
}
