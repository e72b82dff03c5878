using System.Buffers;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Serving;

/// <summary>
/// What the endpoints that browsers post to (the beacon, the events of shared pages) share: a bounded body, a client key,
/// a limit of requests per client and minute.
/// </summary>
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

    /// <summary>
    /// At most <paramref name="permitsPerMinute"/> requests per client (<see cref="ClientKey"/>) and minute of
    /// <paramref name="time"/>, refused beyond that without queuing: a fixed window of
    /// System.Threading.RateLimiting per client, partitioned by the client and the minute. The minute is the
    /// <see cref="TimeProvider"/>'s, because the limiters themselves only know the machine's clock; a partition of a past
    /// minute is dropped by the partitioned limiter once it is idle.
    /// </summary>
    public static PartitionedRateLimiter<HttpContext> PerClientPerMinute(int permitsPerMinute, TimeProvider time)
    {
        var window = TimeSpan.FromMinutes(1);
        var options = new FixedWindowRateLimiterOptions { PermitLimit = permitsPerMinute, Window = window, QueueLimit = 0 };
        Func<(UInt128, long), FixedWindowRateLimiterOptions> partition = _ => options;
        return PartitionedRateLimiter.Create<HttpContext, (UInt128 Client, long Minute)>(context => RateLimitPartition.GetFixedWindowLimiter(
            (ClientKey(context.Connection.RemoteIpAddress), time.GetUtcNow().ToUnixTimeMilliseconds() / (long)window.TotalMilliseconds),
            partition));
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
