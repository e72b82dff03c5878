using System.Net;
using System.Net.Sockets;

namespace CapiMiddleware.Context;

/// <summary>Picks the visitor's address to send to Meta, the way Meta's Parameter Builder does.</summary>
internal static class ClientAddress
{
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

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IsLoopbackOrPrivate(address))
        {
            wasPrivate = true;
            return null;
        }

        return address.ToString();
    }

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
