using System.Globalization;

namespace CapiMiddleware.Cookies;

/// <summary>
/// The formats of Meta's first-party cookies: <c>_fbc = fb.{subdomainIndex}.{creationTimeMs}.{fbclid}</c> and
/// <c>_fbp = fb.{subdomainIndex}.{creationTimeMs}.{random}</c>, optionally followed by a fifth segment that Meta's own
/// libraries append. Existing values are accepted byte for byte; new ones are written with four segments.
/// </summary>
internal static class MetaCookies
{
    public const string ClickIdName = "_fbc";
    public const string BrowserIdName = "_fbp";

    /// <summary>Meta's libraries keep these cookies for 90 days.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(90);

    /// <summary>Meta's browser library ignores longer click IDs.</summary>
    public const int MaxClickIdLength = 500;

    // Room for the longest click ID, the prefix, the timestamp and an appendix.
    private const int MaxCookieLength = MaxClickIdLength + 64;

    /// <summary>Whether an existing <c>_fbc</c> or <c>_fbp</c> value is well formed: 4 or 5 segments, <c>fb</c>, two numbers, a payload.</summary>
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
                _ => segment.Length > 0 && IsPayload(segment),
            };
            if (!ok || ++segments > 5)
            {
                return false;
            }
        }

        return segments >= 4;
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

    /// <summary>The click ID inside a valid <c>_fbc</c> value: its fourth segment.</summary>
    public static ReadOnlySpan<char> ClickIdOf(ReadOnlySpan<char> fbc)
    {
        var index = 0;
        foreach (var range in fbc.Split('.'))
        {
            if (index++ == 3)
            {
                return fbc[range];
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
    /// The subdomain index: the number of dots in the cookie's domain (<c>example.com</c> is 1). Without a configured
    /// domain, the registrable domain is guessed from the host as Meta's Parameter Builder does: an IP address is 0,
    /// a host of three or more labels loses its first.
    /// </summary>
    public static int SubdomainIndex(string? cookieDomain, ReadOnlySpan<char> host)
    {
        if (!string.IsNullOrEmpty(cookieDomain))
        {
            return cookieDomain.AsSpan().Count('.');
        }

        if (host.IsEmpty || host.Contains(':') || System.Net.IPAddress.TryParse(host, out _))
        {
            return 0;
        }

        var dots = host.Count('.');
        return dots >= 2 ? dots - 1 : dots;
    }

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

    // Printable ASCII that is safe in a cookie and in JSON; the separator, quotes and delimiters are not.
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
