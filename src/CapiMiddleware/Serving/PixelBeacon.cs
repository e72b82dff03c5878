using System.Buffers;
using System.Net;
using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Serving;

/// <summary>
/// <c>POST /_capi/beacon</c>: once per page view the snippet says whether Meta's Pixel library loaded and which event IDs
/// the page handled: <c>{"v":1,"blocked":true,"ids":["ord-1001"]}</c>. Only small, well-formed, same-site beacons are
/// taken, a few per client per minute; a beacon can only mark events the server reported itself, never create one.
/// </summary>
internal sealed class PixelBeacon
{
    public const string Path = SnippetFile.BasePath + "/beacon";
    public const int MaxBodyBytes = 2048;
    public const int MaxEventIds = 50;
    public const int PerClientPerMinute = 30;
    public const int MaxClientsPerMinute = 10_000;

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly PixelReach _reach;
    private readonly Inspector.RecentEvents _inspector;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly Dictionary<UInt128, int> _clients = [];
    private DateTimeOffset _windowStart;

    public PixelBeacon(PixelReach reach, Inspector.RecentEvents inspector, TimeProvider time)
    {
        _reach = reach;
        _inspector = inspector;
        _time = time;
    }

    public async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        if (!HttpMethods.IsPost(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "POST";
            return;
        }

        // The snippet's beacons come from the site's own pages; another site has nothing to report here.
        var site = request.Headers["Sec-Fetch-Site"];
        if (site.Count > 0 && site[0] is "cross-site")
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        if (request.ContentLength is > MaxBodyBytes)
        {
            response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        if (!TryAdmit(context.Connection.RemoteIpAddress))
        {
            response.StatusCode = StatusCodes.Status429TooManyRequests;
            response.Headers.RetryAfter = "60";
            return;
        }

        var body = await ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        if (body is null || !TryParse(body, out var blocked, out var ids))
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        if (_reach.Observe(blocked, ids) is { } counted)
        {
            var side = blocked ? PixelReach.Side.ServerOnly : PixelReach.Side.Both;
            foreach (var (eventName, eventId) in counted)
            {
                _inspector.BrowserCopyReported(eventName, eventId, side);
            }
        }
        response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>Parses a beacon; false for anything but the documented shape within the limits.</summary>
    internal static bool TryParse(ReadOnlySpan<byte> body, out bool blocked, out IReadOnlyList<string> ids)
    {
        blocked = false;
        ids = [];
        bool? seenBlocked = null;
        List<string>? list = null;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 3 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("blocked"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        return false;
                    }

                    seenBlocked = reader.GetBoolean();
                }
                else if (reader.ValueTextEquals("ids"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return false;
                    }

                    list = [];
                    while (reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        var id = reader.GetString();
                        if (list.Count >= MaxEventIds || !EventIds.IsValidBrowserEventId(id))
                        {
                            return false;
                        }

                        list.Add(id!);
                    }

                    if (reader.TokenType != JsonTokenType.EndArray)
                    {
                        return false;
                    }
                }
                else
                {
                    // "v" and whatever a newer snippet adds: skip scalars, refuse nesting.
                    reader.Read();
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        return false;
                    }
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || seenBlocked is null)
            {
                return false;
            }
        }
        catch (JsonException)
        {
            return false;
        }

        blocked = seenBlocked.Value;
        ids = list ?? [];
        return true;
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBodyBytes + 1);
        try
        {
            var total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(total, MaxBodyBytes + 1 - total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > MaxBodyBytes)
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
    /// A fixed one-minute window per client (an IPv4 address, or an IPv6 /64, which one household or phone holds), with
    /// a bounded table: when it is full, new clients wait for the next window rather than grow it.
    /// </summary>
    private bool TryAdmit(IPAddress? address)
    {
        var key = ClientKey(address);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (now - _windowStart >= Window || now < _windowStart)
            {
                _clients.Clear();
                _windowStart = now;
            }

            if (_clients.TryGetValue(key, out var count))
            {
                if (count >= PerClientPerMinute)
                {
                    return false;
                }

                _clients[key] = count + 1;
                return true;
            }

            if (_clients.Count >= MaxClientsPerMinute)
            {
                return false;
            }

            _clients[key] = 1;
            return true;
        }
    }

    private static UInt128 ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return UInt128.Zero;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        if (written == 16)
        {
            bytes[8..].Clear(); // the /64
        }

        return new UInt128(BitConverter.ToUInt64(bytes[..8]), BitConverter.ToUInt64(bytes[8..]));
    }
}
