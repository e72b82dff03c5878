using Microsoft.AspNetCore.WebUtilities;

namespace CapiMiddleware.Cookies;

/// <summary>Finds one parameter in a raw query string with ASP.NET Core's <see cref="QueryStringEnumerable"/>, building no dictionary.</summary>
internal static class QueryParameter
{
    /// <inheritdoc cref="TryGetValue(ReadOnlyMemory{char}, string, out string)"/>
    public static bool TryGetValue(string? query, string name, out string value) => TryGetValue(query.AsMemory(), name, out value);

    /// <summary>
    /// Finds the first <paramref name="name"/><c>=</c> parameter in <paramref name="query"/> (with or without the leading
    /// <c>?</c>) and returns its value percent-decoded, <c>+</c> as a space, as URL query parsing would. The name is
    /// compared as sent, and a bare name without <c>=</c> is not the parameter.
    /// </summary>
    public static bool TryGetValue(ReadOnlyMemory<char> query, string name, out string value)
    {
        foreach (var pair in new QueryStringEnumerable(query))
        {
            // The enumerable gives a bare name no value at all (default), and "name=" an empty one.
            if (pair.EncodedName.Span.Equals(name, StringComparison.Ordinal) && !pair.EncodedValue.Equals(default))
            {
                value = pair.DecodeValue().ToString();
                return true;
            }
        }

        value = string.Empty;
        return false;
    }

    /// <summary>A cheap first look: whether <paramref name="text"/> could hold the parameter at all.</summary>
    public static bool MayContain(ReadOnlySpan<char> text, string name) =>
        text.Length > name.Length && text.Contains(name, StringComparison.Ordinal);
}
