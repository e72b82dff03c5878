using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CapiMiddleware.Tests.Pages.Razor;

/// <summary>No attribute: the handler declares its Lead in code, only when the signup worked.</summary>
[IgnoreAntiforgeryToken]
public sealed class ImperativeModel : PageModel
{
    public void OnGet()
    {
    }

    public IActionResult OnPost(string? outcome, string? email)
    {
        if (outcome == "declined")
        {
            return Page(); // nothing declared, nothing reported
        }

        HttpContext.MetaConversion(MetaEventNames.Lead).WithUser(u => u.Email = email).WithCustomProperty("page", "imperative");
        return outcome switch
        {
            "redirect" => Redirect("/page"),
            "bad-request" => BadRequest(),
            _ => Page(),
        };
    }
}
