using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CapiMiddleware.Tests.Pages.Razor;

/// <summary>The attribute on the page model: its POST handlers report a Lead, showing the page does not.</summary>
[MetaConversion(MetaEventNames.Lead)]
[IgnoreAntiforgeryToken]
public sealed class ClassLevelModel : PageModel
{
    public void OnGet()
    {
    }

    public IActionResult OnPost(string? outcome, string? email)
    {
        HttpContext.MetaConversion().WithUser(u => u.Email = email).WithCustomProperty("page", "class-level");
        switch (outcome)
        {
            case "redirect":
                return Redirect("/page");
            case "redirect-to-page":
                return RedirectToPage("/Razor/ClassLevel");
            case "bad-request":
                return BadRequest();
            case "status-404":
                return new PageResult { StatusCode = 404 };
            case "invalid-model":
                ModelState.AddModelError("email", "Invalid.");
                return Page();
            case "throw":
                throw new InvalidOperationException("The handler failed.");
            default:
                return Page();
        }
    }
}
