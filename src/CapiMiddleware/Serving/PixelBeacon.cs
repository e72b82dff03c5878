using System.Text.Json;
using System.Threading.RateLimiting;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Serving;

/// <summary>
/// <c>POST /_capi/beacon</c>: once per page view the snippet says whether Meta's Pixel library loaded and which event IDs
/// the page handled: <c>{"v":1,"blocked":true,"ids":["ord-1001"]}</c>. Only small, well-formed, same-origin beacons are
/// taken, a few per client per minute; a beacon can only mark events the server reported itself, never create one.
/// </summary>
internal sealed class PixelBeacon : IDisposable
{
    public const string Path = SnippetFile.BasePath + "/beacon";
    public const int MaxBodyBytes = 2048;
    public const int MaxEventIds = 50;
    public const int PerClientPerMinute = 30;

    private readonly PixelReach _reach;
    private readonly IConversionObserver _observers;
    private readonly PartitionedRateLimiter<HttpContext> _limiter;

    public PixelBeacon(PixelReach reach, ConversionObservers observers, TimeProvider time)
    {
        _reach = reach;
        _observers = observers;
        _limiter = BrowserRequests.PerClientPerMinute(PerClientPerMinute, time);
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

        // The snippet's beacons come from the site's own pages; another site, or a sibling origin, has nothing to report here.
        if (!IsSameOrigin(request))
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        if (request.ContentLength is > MaxBodyBytes)
        {
            response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        using var lease = _limiter.AttemptAcquire(context);
        if (!lease.IsAcquired)
        {
            response.StatusCode = StatusCodes.Status429TooManyRequests;
            response.Headers.RetryAfter = "60";
            return;
        }

        var body = await BrowserRequests.ReadBodyAsync(request, MaxBodyBytes, context.RequestAborted).ConfigureAwait(false);
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
                _observers.BrowserCopyReported(eventName, eventId, side);
            }
        }
        response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>
    /// Whether a browser says the beacon came from a page of this very origin. <c>Sec-Fetch-Site</c> decides when it is
    /// there: only <c>same-origin</c> (a <c>same-site</c> sibling such as another port or subdomain is someone else).
    /// Browsers without it (Safari before 16.4) send <c>Origin</c> on a POST, or else a <c>Referer</c>: its scheme, host
    /// and port must be the request's own, as the app sees them after ForwardedHeaders. Neither header: refused.
    /// </summary>
    internal static bool IsSameOrigin(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"];
        if (site.Count > 0)
        {
            return site.Count == 1 && string.Equals(site[0], "same-origin", StringComparison.Ordinal);
        }

        var origin = request.Headers.Origin;
        if (origin.Count > 0)
        {
            return origin.Count == 1 && IsOwnUrl(request, origin[0]);
        }

        var referer = request.Headers.Referer;
        return referer.Count == 1 && IsOwnUrl(request, referer[0]);
    }

    /// <summary>
    /// Whether an absolute URL's origin is the request's: same host, same scheme and port. One exception: an
    /// <c>https</c> page on the default port posting to an app that sees plain <c>http</c> on the default port, which is a
    /// proxy terminating TLS without X-Forwarded-Proto reaching the app; the host is still the site's own.
    /// </summary>
    private static bool IsOwnUrl(HttpRequest request, string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var page)
            || page.Scheme is not ("http" or "https")
            || !request.Host.HasValue
            || !string.Equals(page.IdnHost, NormalizeHost(request.Host.Host), StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var scheme = request.Scheme;
        var port = request.Host.Port ?? DefaultPort(scheme);
        if (string.Equals(page.Scheme, scheme, StringComparison.OrdinalIgnoreCase))
        {
            return page.Port == port;
        }

        return page.Scheme == "https" && string.Equals(scheme, "http", StringComparison.OrdinalIgnoreCase)
            && page.IsDefaultPort && port == DefaultPort(scheme);
    }

    private static string NormalizeHost(string host) =>
        host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host; // Uri.IdnHost gives IPv6 without brackets

    private static int DefaultPort(string scheme) =>
        string.Equals(scheme, "https", StringComparison.OrdinalIgnoreCase) ? 443 : 80;

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

    public void Dispose() => _limiter.Dispose();
}
