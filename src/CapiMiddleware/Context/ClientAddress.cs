using System.Net;
using System.Net.Sockets;

namespace CapiMiddleware.Context;

/// <summary>Picks the visitor's address to send to Meta, the way Meta's Parameter Builder does.</summary>
internal static class ClientAddress
{
    /// <summary>The cookie in which the page keeps the visitor's address as the browser sees it (Meta's Parameter Builder 1.3).</summary>
    public const string CookieName = "_fbi";

    /// <summary>The longest <c>_fbi</c> value read: an IPv6 address and a few appendixes.</summary>
    public const int MaxCookieLength = 80;

    /// <summary>
    /// The address to send, in Meta's Parameter Builder order: a public IPv6 address from <c>_fbi</c>, else the
    /// request's public IPv6 address, else a public IPv4 address from <c>_fbi</c>, else the request's public IPv4
    /// address. Loopback and private addresses never. The Pixel may reach Meta over IPv6 while the server sees IPv4; the
    /// cookie carries the browser's own address, so both copies of an event agree.
    /// </summary>
    /// <param name="fromCookie">The address in <c>_fbi</c> (<see cref="FromCookie"/>), or null.</param>
    /// <param name="fromRequest">The connection's address (after ForwardedHeaders).</param>
    /// <param name="requestWasPrivate">Whether the request's own address was loopback or private.</param>
    public static string? ForMeta(IPAddress? fromCookie, IPAddress? fromRequest, out bool requestWasPrivate)
    {
        var request = ForMeta(fromRequest, out requestWasPrivate);
        var cookie = ForMeta(fromCookie, out _);
        if (cookie is not null && fromCookie!.AddressFamily == AddressFamily.InterNetworkV6 && !fromCookie.IsIPv4MappedToIPv6)
        {
            return cookie;
        }

        if (request is not null && fromRequest!.AddressFamily == AddressFamily.InterNetworkV6 && !fromRequest.IsIPv4MappedToIPv6)
        {
            return request;
        }

        return cookie ?? request;
    }

    /// <summary>
    /// The address in an <c>_fbi</c> value: an IPv4 or IPv6 address, optionally followed by the appendixes Meta's
    /// libraries add (<c>.AQ</c>, <c>.AQQCAQMC</c>, sometimes repeated), which are dropped. Anything else is null.
    /// </summary>
    public static IPAddress? FromCookie(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || value.Length > MaxCookieLength)
        {
            return null;
        }

        while (value.LastIndexOf('.') is var dot and > 0 && Cookies.MetaCookies.IsAppendix(value[(dot + 1)..]))
        {
            value = value[..dot];
        }

        // Digits, hex, dots and colons only: no zone ID (%eth0), brackets or ports.
        foreach (var c in value)
        {
            if (!(char.IsAsciiHexDigit(c) || c is '.' or ':'))
            {
                return null;
            }
        }

        // An IPv4 address in full: IPAddress.TryParse also takes "31.13.64" (as 31.13.0.64), which no browser reports.
        if (!value.Contains(':') && (value.Count('.') != 3 || value.Contains("..", StringComparison.Ordinal) || value[0] == '.' || value[^1] == '.'))
        {
            return null;
        }

        return IPAddress.TryParse(value, out var address) ? address : null;
    }

    /// <summary>
    /// The address as Meta wants it, or <see langword="null"/> when it is missing, loopback or private
    /// (<paramref name="wasPrivate"/> tells which, so a missing ForwardedHeaders set-up can be reported).
    /// </summary>
    public static string? ForMeta(IPAddress? address, out bool wasPrivate)
    {
        wasPrivate = false;
        if (address is null)
        {
            return null;
        }

        address = Unmapped(address);

        if (IsLoopbackOrPrivate(address))
        {
            wasPrivate = true;
            return null;
        }

        return address.ToString();
    }

    /// <summary>The IPv4 address an IPv4-mapped IPv6 address (<c>::ffff:a.b.c.d</c>, as a dual-stack socket reports IPv4 peers) carries; any other as it is. The one rule for it.</summary>
    public static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static bool IsLoopbackOrPrivate(IPAddress address)
    {
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] == 10
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254)
                || b[0] == 0;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            return (b[0] & 0xFE) == 0xFC // fc00::/7 unique local
                || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) // fe80::/10 link local
                || address.Equals(IPAddress.IPv6None);
        }

        return false;
    }
}
