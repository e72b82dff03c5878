using CapiMiddleware.Context;
using Microsoft.AspNetCore.Mvc.Filters;

namespace CapiMiddleware.Mvc;

/// <summary>
/// Declares the conversion before the action runs (so the action can describe it) and commits it after, only if the
/// action succeeded.
/// </summary>
internal sealed class MetaConversionFilter : IAsyncActionFilter
{
    private readonly string _eventName;
    private readonly bool _acceptBrowserEventId;
    private readonly ConversionRecorder _recorder;

    public MetaConversionFilter(string eventName, bool acceptBrowserEventId, ConversionRecorder recorder)
    {
        _eventName = eventName;
        _acceptBrowserEventId = acceptBrowserEventId;
        _recorder = recorder;
    }

    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        var http = context.HttpContext;
        var builder = ConversionScope.Get(http).Declare(_eventName, MetaRequestContext.Get(http), _acceptBrowserEventId);
        var executed = await next().ConfigureAwait(false);

        if (ActionOutcome.Succeeded(http, executed.Exception, executed.ExceptionHandled, executed.Canceled, executed.ModelState, executed.Result))
        {
            await _recorder.CommitAsync(http, builder, ActionOutcome.IsRedirect(executed.Result)).ConfigureAwait(false);
        }
    }
}
