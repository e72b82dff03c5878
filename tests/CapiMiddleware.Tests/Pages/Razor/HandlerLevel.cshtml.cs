using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CapiMiddleware.Tests.Pages.Razor;

/// <summary>The attribute on handler methods: each reports its own event, and only when it is the handler that ran.</summary>
[IgnoreAntiforgeryToken]
public sealed class HandlerLevelModel : PageModel
{
    [MetaConversion(MetaEventNames.ViewContent)]
    public void OnGet() => HttpContext.MetaConversion().WithContentName("handler-level");

    [MetaConversion(MetaEventNames.Subscribe)]
    public async Task<IActionResult> OnPostSubscribeAsync()
    {
        await Task.Yield();
        HttpContext.MetaConversion().WithValue(9.5m, "EUR");
        return Page();
    }

    public IActionResult OnPostUnsubscribe() => Page();
}
