using System.Security.Claims;

namespace CapiMiddleware.Context;

/// <summary>
/// Identifiers that come for free: a signed-in user's standard claims fill the fields the action left empty.
/// </summary>
internal static class SignedInUser
{
    public static void Fill(UserData user, ClaimsPrincipal? principal)
    {
        if (principal?.Identity?.IsAuthenticated != true)
        {
            return;
        }

        user.Email ??= principal.FindFirst(ClaimTypes.Email)?.Value;
        user.Phone ??= principal.FindFirst(ClaimTypes.MobilePhone)?.Value;
        user.FirstName ??= principal.FindFirst(ClaimTypes.GivenName)?.Value;
        user.LastName ??= principal.FindFirst(ClaimTypes.Surname)?.Value;
        user.ExternalId ??= principal.FindFirst(ClaimTypes.NameIdentifier)?.Value;
    }
}
