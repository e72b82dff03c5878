using CapiMiddleware.Context;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CapiMiddleware.Endpoints;

/// <summary>
/// The minimal-API twin of the MVC filter: declares the conversion before the handler runs and commits it after, only
/// if the handler succeeded (no exception, a 2xx or redirect result).
/// </summary>
internal sealed class MetaConversionEndpointFilter(string eventName, bool acceptBrowserEventId) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var builder = ConversionScope.Get(http).Declare(eventName, MetaRequestContext.Get(http), acceptBrowserEventId);
        var result = await next(context).ConfigureAwait(false);

        var status = result switch
        {
            IStatusCodeHttpResult { StatusCode: { } code } => code,
            IResult => StatusCodes.Status200OK,
            _ => http.Response.StatusCode,
        };
        if (ConversionOutcome.Succeeded(status))
        {
            var recorder = ConversionRecorder.Require(http.RequestServices, ".WithMetaConversion(...)");
            var redirect = result is RedirectHttpResult or RedirectToRouteHttpResult || ConversionOutcome.IsRedirect(status);
            await recorder.CommitAsync(http, builder, redirect).ConfigureAwait(false);
        }

        return result;
    }
}
