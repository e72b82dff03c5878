using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Serving;

/// <summary>What the endpoints that browsers post to (the beacon, the events of shared pages) share: a bounded body, a client key.</summary>
internal static class BrowserRequests
{
    /// <summary>The body, or null when it is longer than <paramref name="maxBytes"/> (read no further than one byte past it).</summary>
    public static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
        try
        {
            var total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(total, maxBytes + 1 - total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    return null;
                }
            }

            return buffer.AsSpan(0, total).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The client a limit counts against: an IPv4 address, or an IPv6 /64, which one household or phone holds.</summary>
    public static UInt128 ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return UInt128.Zero;
        }

        address = Context.ClientAddress.Unmapped(address);

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        if (written == 16)
        {
            bytes[8..].Clear(); // the /64
        }

        return new UInt128(BitConverter.ToUInt64(bytes[..8]), BitConverter.ToUInt64(bytes[8..]));
    }
}
