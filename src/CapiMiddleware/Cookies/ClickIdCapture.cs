namespace CapiMiddleware.Cookies;

/// <summary>What the cookie rules decided for one request: the values to write, if any.</summary>
/// <param name="ClickId">A new <c>_fbc</c> value to write, or <see langword="null"/> to leave the cookie as it is.</param>
/// <param name="BrowserId">A new <c>_fbp</c> value to write, or <see langword="null"/> to leave the cookie as it is.</param>
internal readonly record struct CookieDecision(string? ClickId, string? BrowserId)
{
    public bool HasWork => ClickId is not null || BrowserId is not null;
}

/// <summary>
/// The rules for Meta's first-party cookies, in one place: a click ID from <c>fbclid</c> replaces <c>_fbc</c> only when it
/// differs from the one stored (so the original timestamp survives reloads), and <c>_fbp</c> is minted only when absent.
/// </summary>
internal static class ClickIdCapture
{
    /// <param name="existingClickId">The current <c>_fbc</c> if valid, else empty.</param>
    /// <param name="hasBrowserId">Whether a valid <c>_fbp</c> exists.</param>
    /// <param name="fbclid">A valid click ID from the URL or the referrer, else empty.</param>
    /// <param name="mintBrowserId">Whether this request may create an <c>_fbp</c> (a page view or a new click).</param>
    /// <param name="subdomainIndex">The <c>i</c> of <c>fb.{i}.…</c>.</param>
    /// <param name="nowMs">The creation time, Unix milliseconds.</param>
    /// <param name="random">The random part of a new browser ID.</param>
    public static CookieDecision Decide(
        ReadOnlySpan<char> existingClickId,
        bool hasBrowserId,
        ReadOnlySpan<char> fbclid,
        bool mintBrowserId,
        int subdomainIndex,
        long nowMs,
        Func<int> random)
    {
        string? clickId = null;
        if (!fbclid.IsEmpty && !(existingClickId.Length > 0 && MetaCookies.ClickIdOf(existingClickId).SequenceEqual(fbclid)))
        {
            clickId = MetaCookies.FormatClickId(subdomainIndex, nowMs, fbclid);
        }

        string? browserId = null;
        if (!hasBrowserId && (mintBrowserId || clickId is not null))
        {
            browserId = MetaCookies.FormatBrowserId(subdomainIndex, nowMs, random());
        }

        return new CookieDecision(clickId, browserId);
    }
}
