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
    /// How many limits a minute has at most: clients share them by a hash of their key, seeded anew in each process (so
    /// no one can aim at another's). Memory stays bounded whatever the number of addresses a flood comes from (a
    /// partition per share and minute, dropped once idle), where a limit per address would keep one for each; with
    /// 10,000 clients in a minute, a client shares its 30 requests with one other on average.
    /// </summary>
    public const int Shares = 16_384;

    /// <summary>
    /// At most <paramref name="permitsPerMinute"/> requests per client (<see cref="ClientKey"/>, one of
    /// <see cref="Shares"/> shares) and minute of <paramref name="time"/>, refused beyond that without queuing: a fixed
    /// window of System.Threading.RateLimiting per share, partitioned by the share and the minute. The minute is the
    /// <see cref="TimeProvider"/>'s, because the limiters themselves only know the machine's clock; a partition of a past
    /// minute is dropped by the partitioned limiter once it is idle.
    /// </summary>
    public static PartitionedRateLimiter<HttpContext> PerClientPerMinute(int permitsPerMinute, TimeProvider time)
    {
        var window = TimeSpan.FromMinutes(1);
        var options = new FixedWindowRateLimiterOptions { PermitLimit = permitsPerMinute, Window = window, QueueLimit = 0 };
        Func<(int, long), FixedWindowRateLimiterOptions> partition = _ => options;
        return PartitionedRateLimiter.Create<HttpContext, (int Share, long Minute)>(context => RateLimitPartition.GetFixedWindowLimiter(
            (ShareOf(ClientKey(context.Connection.RemoteIpAddress)), time.GetUtcNow().ToUnixTimeMilliseconds() / (long)window.TotalMilliseconds),
            partition));
    }

    /// <summary>The share of the limits a client counts against (<see cref="Shares"/>).</summary>
    internal static int ShareOf(UInt128 client) => HashCode.Combine(client) & (Shares - 1);

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
