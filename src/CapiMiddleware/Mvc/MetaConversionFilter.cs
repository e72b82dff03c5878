using CapiMiddleware.Context;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Infrastructure;

namespace CapiMiddleware.Mvc;

/// <summary>
/// Declares the conversion before the action runs (so the action can describe it) and commits it after, only if the
/// action succeeded.
/// </summary>
internal sealed class MetaConversionFilter : IAsyncActionFilter
{
    private readonly string _eventName;
    private readonly ConversionRecorder _recorder;

    public MetaConversionFilter(string eventName, ConversionRecorder recorder)
    {
        _eventName = eventName;
        _recorder = recorder;
    }

    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        var http = context.HttpContext;
        var builder = ConversionScope.Get(http).Declare(_eventName, MetaRequestContext.Get(http));
        var executed = await next().ConfigureAwait(false);

        if (Succeeded(executed))
        {
            await _recorder.CommitAsync(http, builder, IsRedirect(executed.Result)).ConfigureAwait(false);
        }
    }

    internal static bool Succeeded(ActionExecutedContext executed)
    {
        if ((executed.Exception is not null && !executed.ExceptionHandled) || executed.Canceled || !executed.ModelState.IsValid)
        {
            return false;
        }

        var status = executed.Result switch
        {
            IStatusCodeActionResult { StatusCode: { } code } => code,
            // A result without a status of its own answers with what the action left on the response (200 by default).
            _ => executed.HttpContext.Response.StatusCode,
        };

        return status is >= 200 and < 400;
    }

    internal static bool IsRedirect(IActionResult? result) => result is RedirectResult or RedirectToActionResult
        or RedirectToRouteResult or RedirectToPageResult or LocalRedirectResult;
}
