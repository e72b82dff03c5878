using System.Reflection;
using CapiMiddleware.Context;
using Microsoft.AspNetCore.Mvc.Filters;

namespace CapiMiddleware.Mvc;

/// <summary>
/// The Razor Pages twin of <see cref="MetaConversionFilter"/>: declares the selected handler's conversions before it
/// runs and commits them after, only if it succeeded (the same rule as for actions).
/// </summary>
internal sealed class MetaConversionPageFilter(IReadOnlyDictionary<MethodInfo, string[]> handlers) : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.HandlerMethod is not { } handler || !handlers.TryGetValue(handler.MethodInfo, out var names))
        {
            await next().ConfigureAwait(false);
            return;
        }

        var http = context.HttpContext;
        var recorder = ConversionRecorder.Require(http.RequestServices, "[MetaConversion]");
        var scope = ConversionScope.Get(http);
        var request = MetaRequestContext.Get(http);
        var builders = new ConversionEventBuilder[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            builders[i] = scope.Declare(names[i], request);
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
