using Microsoft.Extensions.Primitives;

namespace CapiMiddleware.Cookies;

/// <summary>
/// Finds one cookie in the raw <c>Cookie</c> header without building the request's cookie collection, so requests
/// that need nothing pay nothing, and values are seen byte for byte (no URL-decoding).
/// </summary>
internal static class CookieHeader
{
    public static bool TryGetValue(StringValues header, string name, out ReadOnlySpan<char> value)
    {
        for (var i = 0; i < header.Count; i++)
        {
            if (TryGetValue(header[i].AsSpan(), name, out value))
            {
                return true;
            }
        }

        value = default;
        return false;
    }

    public static bool TryGetValue(ReadOnlySpan<char> header, string name, out ReadOnlySpan<char> value)
    {
        while (!header.IsEmpty)
        {
            var end = header.IndexOf(';');
            var pair = end < 0 ? header : header[..end];
            header = end < 0 ? default : header[(end + 1)..];

            pair = pair.TrimStart(' ');
            var eq = pair.IndexOf('=');
            if (eq <= 0 || !pair[..eq].TrimEnd(' ').SequenceEqual(name))
            {
                continue;
            }

            value = pair[(eq + 1)..].Trim(' ');
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            return true;
        }

        value = default;
        return false;
    }
}
