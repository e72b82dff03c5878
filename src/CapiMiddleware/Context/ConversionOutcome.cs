namespace CapiMiddleware.Context;

/// <summary>
/// When a request's conversion counts, by the status it answered with: the one rule every trigger (MVC filter, page
/// filter, endpoint filter, imperative call) applies once it knows the status.
/// </summary>
internal static class ConversionOutcome
{
    /// <summary>A 2xx answer, or a redirect (a POST-redirect-GET that succeeded).</summary>
    public static bool Succeeded(int statusCode) => statusCode is >= 200 and < 400;

    /// <summary>A redirect: the Pixel's copy waits for the next page.</summary>
    public static bool IsRedirect(int statusCode) => statusCode is >= 300 and < 400;
}
