using System.Reflection;
using CapiMiddleware.Context;
using Microsoft.AspNetCore.Mvc.Filters;

namespace CapiMiddleware.Mvc;

/// <summary>
/// The Razor Pages twin of <see cref="MetaConversionFilter"/>: declares the selected handler's conversions before it
/// runs and commits them after, only if it succeeded (the same rule as for actions).
/// </summary>
internal sealed class MetaConversionPageFilter(IReadOnlyDictionary<MethodInfo, PageConversion[]> handlers) : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.HandlerMethod is not { } handler || !handlers.TryGetValue(handler.MethodInfo, out var conversions))
        {
            await next().ConfigureAwait(false);
            return;
        }

        var http = context.HttpContext;
        var recorder = ConversionRecorder.Require(http.RequestServices, "[MetaConversion]");
        var scope = ConversionScope.Get(http);
        var request = MetaRequestContext.Get(http);
        var builders = new ConversionEventBuilder[conversions.Length];
        for (var i = 0; i < conversions.Length; i++)
        {
            builders[i] = scope.Declare(conversions[i].EventName, request, conversions[i].AcceptBrowserEventId);
        }

        var executed = await next().ConfigureAwait(false);
        if (ActionOutcome.Succeeded(http, executed.Exception, executed.ExceptionHandled, executed.Canceled, context.ModelState, executed.Result))
        {
            var redirect = ActionOutcome.IsRedirect(executed.Result);
            foreach (var builder in builders)
            {
                await recorder.CommitAsync(http, builder, redirect).ConfigureAwait(false);
            }
        }
    }
}
