using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;

namespace Shop.Infrastructure;

/// <summary>
/// Every form the shop cannot read, and every form without its antiforgery token, gets a 400 that says so, never a 500.
/// ASP.NET Core reads a form lazily: a malformed one (more than 1,024 fields, a broken multipart body, a body Kestrel
/// refuses) otherwise surfaces as a binding error the action does not expect, or as a bare 400 from antiforgery.
/// Registered once as a global filter, so it covers the controllers and the Razor Pages alike.
/// </summary>
internal sealed class BadFormFilter : IAsyncAuthorizationFilter, IAlwaysRunResultFilter
{
    /// <summary>Authorization filters run before antiforgery validation (order 1000) and model binding: read the form first.</summary>
    public async Task OnAuthorizationAsync(AuthorizationFilterContext context)
    {
        var request = context.HttpContext.Request;
        if (!request.HasFormContentType)
        {
            return;
        }

        try
        {
            await request.ReadFormAsync(context.HttpContext.RequestAborted); // cached: binding and antiforgery reuse it
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            // The framework's reasons ("Form value count limit 1024 exceeded.") hold no visitor data; the form's values are never echoed.
            var status = ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
            context.Result = Problem(status, "The form could not be read.", ex is InvalidDataException or BadHttpRequestException
                ? ex.Message
                : "The request body ended before the form did.");
        }
    }

    /// <summary>Antiforgery's own failure is an empty 400: give it words a person (or a developer) can act on.</summary>
    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is IAntiforgeryValidationFailedResult)
        {
            context.Result = Problem(
                StatusCodes.Status400BadRequest,
                "The form's antiforgery token is missing or invalid.",
                "Only this site's own pages can post this form. Reload the page and try again.");
        }
    }

    /// <inheritdoc />
    public void OnResultExecuted(ResultExecutedContext context)
    {
    }

    private static ObjectResult Problem(int status, string title, string detail) =>
        new(new ProblemDetails { Status = status, Title = title, Detail = detail }) { StatusCode = status };
}
