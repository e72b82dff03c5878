using CapiMiddleware;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Shop.Pages;

/// <summary>
/// A Razor Page: the attribute on the page model reports a Lead when the form is posted and the handler succeeds
/// (showing the form reports nothing). After the redirect, the thank-you page hands the Pixel its copy.
/// </summary>
[MetaConversion(MetaEventNames.Lead)]
public sealed class NewsletterModel : PageModel
{
    [BindProperty]
    public string? Email { get; set; }

    public bool Subscribed { get; private set; }

    public void OnGet(bool subscribed) => Subscribed = subscribed;

    public IActionResult OnPost()
    {
        if (string.IsNullOrWhiteSpace(Email) || !Email.Contains('@'))
        {
            ModelState.AddModelError("email", "Enter an email address."); // invalid model state: no Lead
            return Page();
        }

        HttpContext.MetaConversion().WithUser(u => u.Email = Email);
        return RedirectToPage(new { subscribed = true });
    }
}
