using CapiMiddleware.Context;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CapiMiddleware.Mvc;

/// <summary>
/// Whether an MVC action or a Razor Pages handler succeeded, judged before its result runs: no unhandled exception, not
/// cancelled by a filter, a valid model state, and a 2xx or redirect result. Shared by both filters.
/// </summary>
internal static class ActionOutcome
{
    public static bool Succeeded(
        HttpContext http, Exception? exception, bool exceptionHandled, bool canceled, ModelStateDictionary modelState, IActionResult? result)
    {
        if ((exception is not null && !exceptionHandled) || canceled || !modelState.IsValid)
        {
            return false;
        }

        var status = result switch
        {
            IStatusCodeActionResult { StatusCode: { } code } => code,
            PageResult { StatusCode: { } code } => code, // a page's own status, without the interface
            // A result without a status of its own answers with what the action left on the response (200 by default).
            _ => http.Response.StatusCode,
        };

        return ConversionOutcome.Succeeded(status);
    }

    /// <summary>Redirect results set their status only when they run, so they are known by type.</summary>
    public static bool IsRedirect(IActionResult? result) => result is RedirectResult or RedirectToActionResult
        or RedirectToRouteResult or RedirectToPageResult or LocalRedirectResult;
}
