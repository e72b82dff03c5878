using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace Shop.Controllers;

/// <summary>
/// The cookie banner's answer. "Accept" grants ASP.NET Core's tracking consent (CookiePolicy's consent cookie), so the
/// next requests carry Meta's cookies and report events; "Decline" withdraws it and remembers not to ask again.
/// </summary>
public sealed class ConsentController : Controller
{
    /// <summary>An essential cookie that only says "declined", so the banner is not shown again.</summary>
    public const string DeclinedCookie = "shop-consent-declined";

    /// <summary>
    /// Only the shop's own banner may answer: its form carries an antiforgery token, which another site's page cannot
    /// read or send. Without it, any page could post "accept" for a visitor (and a <c>returnUrl</c> with its own
    /// <c>fbclid</c>), turning tracking on behind the visitor's back.
    /// </summary>
    [HttpPost("/consent")]
    [ValidateAntiForgeryToken]
    public IActionResult Choose([FromForm] string? choice, [FromForm] string? returnUrl)
    {
        var consent = HttpContext.Features.Get<ITrackingConsentFeature>();
        if (choice == "accept")
        {
            consent?.GrantConsent();
            Response.Cookies.Delete(DeclinedCookie);
        }
        else
        {
            consent?.WithdrawConsent();
            Response.Cookies.Append(DeclinedCookie, "1", new CookieOptions
            {
                IsEssential = true,
                HttpOnly = true,
                SameSite = SameSiteMode.Lax,
                MaxAge = TimeSpan.FromDays(180),
            });
        }

        // shop.js asks by fetch and tells the snippet itself; a plain form post goes back to the page it came from.
        if (Request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return NoContent();
        }

        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl : "/");
    }
}
