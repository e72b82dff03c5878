using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace CapiMiddleware.Cookies;

/// <summary>
/// The formats of Meta's first-party cookies: <c>_fbc = fb.{subdomainIndex}.{creationTimeMs}.{fbclid}</c> and
/// <c>_fbp = fb.{subdomainIndex}.{creationTimeMs}.{random}</c>, optionally followed by a fifth segment (an appendix)
/// that Meta's own libraries append. Existing values are accepted byte for byte; new ones are written with four
/// segments, since the appendix names the Meta library that wrote the value and this is not one.
/// </summary>
internal static class MetaCookies
{
    public const string ClickIdName = "_fbc";
    public const string BrowserIdName = "_fbp";

    /// <summary>Meta's libraries keep these cookies for 90 days.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(90);

    /// <summary>Meta's browser library ignores longer click IDs.</summary>
    public const int MaxClickIdLength = 500;

    /// <summary>Room for the longest click ID, the prefix, the timestamp and an appendix.</summary>
    public const int MaxCookieLength = MaxClickIdLength + 64;

    /// <summary>
    /// Whether an existing <c>_fbc</c> or <c>_fbp</c> value is well formed, by the rules of Meta's Parameter Builder:
    /// <c>fb</c>, the subdomain index and the creation time as digits, a non-empty payload, and optionally a fifth
    /// segment that is one of the appendixes Meta's libraries write (<see cref="IsAppendix"/>). A value that breaks
    /// them is treated as absent, as the builder treats it. On top, values no Meta library or this one writes are
    /// refused: over <see cref="MaxCookieLength"/> characters, an index over 4 digits, a time over 20, or a character
    /// outside <see cref="IsPayload"/>'s set: Meta can reject an event whose click ID is malformed, losing all of it.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<char> value)
    {
        if (value.Length is 0 or > MaxCookieLength)
        {
            return false;
        }

        var segments = 0;
        foreach (var range in value.Split('.'))
        {
            var segment = value[range];
            var ok = segments switch
            {
                0 => segment.SequenceEqual("fb"),
                1 => segment.Length is > 0 and <= 4 && IsDigits(segment),
                2 => segment.Length is > 0 and <= 20 && IsDigits(segment),
                3 => segment.Length > 0 && IsPayload(segment),
                _ => IsAppendix(segment),
            };
            if (!ok || ++segments > 5)
            {
                return false;
            }
        }

        return segments >= 4;
    }

    /// <summary>
    /// The request's <c>_fbc</c> when the browser may send several (a host-only cookie beside a domain one, written by
    /// an older version of this library, server-side GTM or the Pixel): the valid value with the newest creation time,
    /// so a newer click wins over an older one whatever order the browser sends them in. Ties keep the first.
    /// </summary>
    /// <param name="header">The request's <c>Cookie</c> header.</param>
    /// <param name="count">How many <c>_fbc</c> values the request carries, valid or not.</param>
    public static ReadOnlySpan<char> SelectClickId(StringValues header, out int count)
    {
        count = 0;
        ReadOnlySpan<char> winner = default;
        ReadOnlySpan<char> winnerTime = default;
        foreach (var value in CookieHeader.Values(header, ClickIdName))
        {
            count++;
            if (IsValid(value) && CreationTimeOf(value) is var time && IsNewer(time, winnerTime))
            {
                winner = value;
                winnerTime = time;
            }
        }

        return winner;
    }

    /// <summary>
    /// The request's <c>_fbp</c> when the browser may send several: the first valid value in header order, which is the
    /// one <c>document.cookie</c> lists first and so the one Meta's Pixel reads: both copies of an event carry one ID.
    /// </summary>
    /// <param name="header">The request's <c>Cookie</c> header.</param>
    /// <param name="count">How many <c>_fbp</c> values the request carries, valid or not.</param>
    public static ReadOnlySpan<char> SelectBrowserId(StringValues header, out int count)
    {
        count = 0;
        ReadOnlySpan<char> winner = default;
        foreach (var value in CookieHeader.Values(header, BrowserIdName))
        {
            count++;
            if (winner.IsEmpty && IsValid(value))
            {
                winner = value;
            }
        }

        return winner;
    }

    /// <summary>The creation time of a valid value (its third segment, Unix milliseconds as digits).</summary>
    private static ReadOnlySpan<char> CreationTimeOf(ReadOnlySpan<char> value) => Segment(value, 2);

    // Digit strings compared as numbers: the longer is larger (leading zeros aside), else the larger by ordinal.
    private static bool IsNewer(ReadOnlySpan<char> time, ReadOnlySpan<char> than)
    {
        time = time.TrimStart('0');
        than = than.TrimStart('0');
        return than.IsEmpty || time.Length > than.Length || (time.Length == than.Length && time.SequenceCompareTo(than) > 0);
    }

    /// <summary>
    /// Whether a valid value's fourth segment is a number, as in every <c>_fbp</c> Meta's libraries write
    /// (<c>fb.1.1596403881668.1116446470</c>): Meta refuses an <c>fbp</c> that is not of that form.
    /// </summary>
    public static bool HasNumericPayload(ReadOnlySpan<char> value)
    {
        var payload = ClickIdOf(value);
        return payload.Length is > 0 and <= 20 && IsDigits(payload);
    }

    /// <summary>
    /// Whether a value is one of the two-character language tokens Meta's Parameter Builder libraries append (to cookie
    /// values and to the digests they produce): the one list of them.
    /// </summary>
    public static bool IsLanguageToken(ReadOnlySpan<char> token) => token is "AQ" or "Ag" or "Aw" or "BA" or "BQ" or "Bg";

    /// <summary>
    /// Whether a fifth segment is an appendix Meta's libraries write: one of their two-character language tokens, or
    /// eight base64url characters holding six bytes, the first the format (1) and the second the language (1 to 6).
    /// </summary>
    public static bool IsAppendix(ReadOnlySpan<char> segment)
    {
        if (segment.Length == 2)
        {
            return IsLanguageToken(segment);
        }

        if (segment.Length != 8)
        {
            return false;
        }

        Span<int> sextets = stackalloc int[8];
        for (var i = 0; i < 8; i++)
        {
            sextets[i] = Base64UrlValue(segment[i]);
            if (sextets[i] < 0)
            {
                return false;
            }
        }

        var format = (sextets[0] << 2) | (sextets[1] >> 4);
        var language = ((sextets[1] & 0xF) << 4) | (sextets[2] >> 2);
        return format == 1 && language is >= 1 and <= 6;
    }

    /// <summary>The click ID inside a valid <c>_fbc</c> value: its fourth segment.</summary>
    public static ReadOnlySpan<char> ClickIdOf(ReadOnlySpan<char> fbc) => Segment(fbc, 3);

    /// <summary>The dot-separated segment at <paramref name="position"/> (0 is <c>fb</c>), or empty.</summary>
    private static ReadOnlySpan<char> Segment(ReadOnlySpan<char> value, int position)
    {
        var index = 0;
        foreach (var range in value.Split('.'))
        {
            if (index++ == position)
            {
                return value[range];
            }
        }

        return default;
    }

    /// <summary>
    /// Whether an <c>fbclid</c> query value can be stored as it is: 1 to 500 characters of the URL-safe alphabet
    /// Meta uses. Anything else is ignored rather than changed, since Meta rejects a modified click ID.
    /// </summary>
    public static bool IsValidFbclid(ReadOnlySpan<char> fbclid)
    {
        if (fbclid.Length is 0 or > MaxClickIdLength)
        {
            return false;
        }

        foreach (var c in fbclid)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    public static string FormatClickId(int subdomainIndex, long creationTimeMs, ReadOnlySpan<char> fbclid) =>
        string.Create(CultureInfo.InvariantCulture, $"fb.{subdomainIndex}.{creationTimeMs}.{fbclid}");

    public static string FormatBrowserId(int subdomainIndex, long creationTimeMs, int random) =>
        string.Create(CultureInfo.InvariantCulture, $"fb.{subdomainIndex}.{creationTimeMs}.{random}");

    /// <summary>
    /// The domain to write <c>_fbc</c>/<c>_fbp</c> on for a request to <paramref name="host"/>: the configured
    /// <c>CookieDomain</c> when the host lies inside it (outside it, a host-only cookie); without one, the host's
    /// registrable domain by the Public Suffix List, as a browser decides it and Meta's Pixel ends up writing
    /// (<c>www.example.co.uk</c> → <c>example.co.uk</c>). <see langword="null"/> for a host-only cookie: an IP address,
    /// <c>localhost</c>, a single label, or a host that is a public suffix itself.
    /// </summary>
    public static string? CookieDomainFor(string? cookieDomain, string host)
    {
        if (!string.IsNullOrEmpty(cookieDomain))
        {
            return host.Equals(cookieDomain, StringComparison.OrdinalIgnoreCase)
                || host.EndsWith("." + cookieDomain, StringComparison.OrdinalIgnoreCase)
                ? cookieDomain
                : null;
        }

        var registrable = PublicSuffixList.Default.RegistrableDomain(host);
        return registrable.IsEmpty ? null : registrable.Length == host.Length ? host : registrable.ToString();
    }

    /// <summary>
    /// The subdomain index: the number of dots in the domain the cookie is written for (<c>example.com</c> is 1).
    /// <paramref name="cookieDomain"/> is the cookie's Domain (<see cref="CookieDomainFor"/>); for a host-only cookie
    /// (an IP address, <c>localhost</c>, a single label) it is guessed from the host as Meta's Parameter Builder
    /// guesses it: an IP address is 0, a host of three or more labels loses its first.
    /// </summary>
    public static int SubdomainIndex(string? cookieDomain, ReadOnlySpan<char> host)
    {
        if (!string.IsNullOrEmpty(cookieDomain))
        {
            return cookieDomain.AsSpan().Count('.');
        }

        if (host.IsEmpty || host.Contains(':') || IsDottedQuad(host))
        {
            return 0;
        }

        var dots = host.Count('.');
        return dots >= 2 ? dots - 1 : dots;
    }

    // An IPv4 address as the builder recognizes one: four groups of one to three digits. (IPv6 hosts have colons.)
    private static bool IsDottedQuad(ReadOnlySpan<char> host)
    {
        var groups = 0;
        foreach (var range in host.Split('.'))
        {
            var group = host[range];
            if (++groups > 4 || group.Length is 0 or > 3 || !IsDigits(group))
            {
                return false;
            }
        }

        return groups == 4;
    }

    private static int Base64UrlValue(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        '_' => 63,
        _ => -1,
    };

    private static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    // Printable ASCII without the cookie delimiters, quotes, backslash and % (a value that a reader that URL-decodes
    // cookies, as Meta's Parameter Builder does, would see differently).
    private static bool IsPayload(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (c <= ' ' || c >= 0x7F || c is ';' or ',' or '"' or '\\' or '%')
            {
                return false;
            }
        }

        return true;
    }
}
