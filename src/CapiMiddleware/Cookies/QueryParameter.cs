namespace CapiMiddleware.Cookies;

/// <summary>Finds one parameter in a raw query string without parsing the whole query.</summary>
internal static class QueryParameter
{
    /// <summary>
    /// Finds the first <paramref name="name"/> parameter in <paramref name="query"/> (with or without the leading
    /// <c>?</c>) and returns its value percent-decoded, as URL query parsing would.
    /// </summary>
    public static bool TryGetValue(ReadOnlySpan<char> query, string name, out string value)
    {
        value = string.Empty;
        if (query.StartsWith('?'))
        {
            query = query[1..];
        }

        while (!query.IsEmpty)
        {
            var end = query.IndexOf('&');
            var pair = end < 0 ? query : query[..end];
            query = end < 0 ? default : query[(end + 1)..];

            if (pair.Length > name.Length && pair[name.Length] == '=' && pair.StartsWith(name, StringComparison.Ordinal))
            {
                var raw = pair[(name.Length + 1)..];
                value = raw.IndexOfAny('%', '+') < 0 ? raw.ToString() : Uri.UnescapeDataString(raw.ToString().Replace('+', ' '));
                return true;
            }
        }

        return false;
    }

    /// <summary>A cheap first look: whether <paramref name="text"/> could hold the parameter at all.</summary>
    public static bool MayContain(ReadOnlySpan<char> text, string name) =>
        text.Length > name.Length && text.Contains(name, StringComparison.Ordinal);
}
