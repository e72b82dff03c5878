using Microsoft.Extensions.Primitives;

namespace CapiMiddleware.Cookies;

/// <summary>
/// Finds one cookie in the raw <c>Cookie</c> header without building the request's cookie collection, so requests
/// that need nothing pay nothing, and values are seen byte for byte (no URL-decoding).
/// </summary>
internal static class CookieHeader
{
    /// <summary>The first value of the cookie <paramref name="name"/>, in header order.</summary>
    public static bool TryGetValue(StringValues header, string name, out ReadOnlySpan<char> value)
    {
        var values = new ValueEnumerator(header, name);
        var found = values.MoveNext();
        value = found ? values.Current : default;
        return found;
    }

    /// <summary>The first value of the cookie <paramref name="name"/> in one header line.</summary>
    public static bool TryGetValue(ReadOnlySpan<char> header, string name, out ReadOnlySpan<char> value) =>
        TryFindNext(header, name, out value, out _);

    /// <summary>
    /// Every value of the cookie <paramref name="name"/>, in header order: a browser sends one per cookie of that name
    /// it holds (a host-only one and a domain one, say), in <c>document.cookie</c>'s order.
    /// </summary>
    public static ValueEnumerator Values(StringValues header, string name) => new(header, name);

    /// <summary>Whether the request carries more than one cookie named <paramref name="name"/>.</summary>
    public static bool HasSeveral(StringValues header, string name)
    {
        var values = Values(header, name);
        return values.MoveNext() && values.MoveNext();
    }

    /// <summary>Finds the next value of <paramref name="name"/> in <paramref name="header"/>; <paramref name="consumed"/> is how far past it to go on.</summary>
    private static bool TryFindNext(ReadOnlySpan<char> header, string name, out ReadOnlySpan<char> value, out int consumed)
    {
        consumed = 0;
        while (consumed < header.Length)
        {
            var rest = header[consumed..];
            var end = rest.IndexOf(';');
            var pair = end < 0 ? rest : rest[..end];
            consumed += end < 0 ? rest.Length : end + 1;

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

    /// <summary>The values of one cookie name across the request's <c>Cookie</c> header lines; allocates nothing.</summary>
    internal ref struct ValueEnumerator
    {
        private readonly StringValues _header;
        private readonly string _name;
        private int _line;
        private ReadOnlySpan<char> _rest;

        public ValueEnumerator(StringValues header, string name)
        {
            _header = header;
            _name = name;
            _line = -1;
            _rest = default;
        }

        public ReadOnlySpan<char> Current { get; private set; }

        public readonly ValueEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (true)
            {
                if (TryFindNext(_rest, _name, out var value, out var consumed))
                {
                    Current = value;
                    _rest = _rest[consumed..];
                    return true;
                }

                if (++_line >= _header.Count)
                {
                    return false;
                }

                _rest = _header[_line].AsSpan();
            }
        }
    }
}
