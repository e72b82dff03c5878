using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using CapiMiddleware.Context;
using CapiMiddleware.Events;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Serving;

/// <summary>What <c>POST /_capi/events</c> answers: whether this visitor may be tracked, and the event IDs it took.</summary>
internal sealed record BrowserEventsReply(
    [property: JsonPropertyName("consent")] bool Consent,
    [property: JsonPropertyName("accepted")] IReadOnlyList<string> Accepted);

/// <summary>
/// <c>POST /_capi/events</c>: the server's copy of conversions that a shared (cached) page declared, sent by each
/// visitor's snippet with the event ID it minted and fired the Pixel with:
/// <c>{"v":1,"events":[{"id":"…","token":"…"}]}</c>. The server builds each event exactly as an attribute would, from
/// this request (cookies, IP address, user agent, consent) and the page it came from, taking the name and values only
/// from the token the page's markup carries (<see cref="DeclaredEvents"/>). Same-origin only, small, and a few requests
/// per client a minute, as the beacon.
/// </summary>
internal sealed class BrowserEvents : IDisposable
{
    public const string Path = SnippetFile.BasePath + "/events";
    public const int MaxBodyBytes = 16 * 1024;
    public const int MaxEvents = 10;
    public const int PerClientPerMinute = 30;

    private readonly DeclaredEvents _declared;
    private readonly ConversionRecorder _recorder;
    private readonly TrackingConsent _consent;
    private readonly PartitionedRateLimiter<HttpContext> _limiter;

    public BrowserEvents(DeclaredEvents declared, ConversionRecorder recorder, TrackingConsent consent, TimeProvider time)
    {
        _declared = declared;
        _recorder = recorder;
        _consent = consent;
        _limiter = BrowserRequests.PerClientPerMinute(PerClientPerMinute, time);
    }

    public async Task<IResult> ReceiveAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers.CacheControl = "no-store";
        if (!PixelBeacon.IsSameOrigin(request))
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        if (request.ContentLength is > MaxBodyBytes)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        using var lease = _limiter.AttemptAcquire(context);
        if (!lease.IsAcquired)
        {
            context.Response.Headers.RetryAfter = "60";
            return Results.StatusCode(StatusCodes.Status429TooManyRequests);
        }

        var body = await BrowserRequests.ReadBodyAsync(request, MaxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null || !TryParse(body, out var posted))
        {
            return Results.BadRequest();
        }

        var allowed = _consent.Decide(context) == TrackingDecision.Allowed;
        var accepted = new List<string>(posted.Count);
        if (allowed)
        {
            foreach (var (id, token) in posted)
            {
                if (_declared.Open(token) is not { } declaration || !FromDeclaringPage(request, declaration.Path, out var pageUrl))
                {
                    continue;
                }

                var builder = new ConversionEventBuilder(declaration.Event.Name, id) { DeclaredCustomData = declaration.Event.Data };
                builder.AcceptBrowserEventId().WithEventSourceUrl(pageUrl);
                if (declaration.Event.PixelIds is { Count: > 0 } pixels)
                {
                    builder.SendToPixels([.. pixels]);
                }

                if (declaration.Event.DataProcessingOptions is { } processing)
                {
                    builder.WithDataProcessingOptions(processing.ToOptions());
                }

                await _recorder.CommitAsync(context, builder, redirect: false).ConfigureAwait(false);
                accepted.Add(id);
            }
        }

        return Results.Json(new BrowserEventsReply(allowed, accepted), GraphJsonContext.Default.BrowserEventsReply);
    }

    /// <summary>
    /// The URL of the page that fired the events: the same-origin Referer when its path is the one the token was declared
    /// on; without a Referer (a no-referrer policy), that path on this origin. Another page's token is refused.
    /// </summary>
    private static bool FromDeclaringPage(HttpRequest request, string declaredPath, out string pageUrl)
    {
        var referer = request.Headers.Referer.ToString();
        if (referer.Length == 0)
        {
            pageUrl = $"{request.Scheme}://{request.Host}{request.PathBase}{declaredPath}";
            return true;
        }

        pageUrl = referer;
        return Uri.TryCreate(referer, UriKind.Absolute, out var page)
            && string.Equals(page.AbsolutePath, request.PathBase.Add(declaredPath).Value, StringComparison.Ordinal);
    }

    /// <summary>The posted events, at most <see cref="MaxEvents"/>, each a browser event ID and a token; false for anything else.</summary>
    internal static bool TryParse(ReadOnlySpan<byte> body, out List<(string Id, string Token)> events)
    {
        events = [];
        try
        {
            using var document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("events", out var list)
                || list.ValueKind != JsonValueKind.Array
                || list.GetArrayLength() > MaxEvents)
            {
                return false;
            }

            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object
                    || !item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                    || !item.TryGetProperty("token", out var token) || token.ValueKind != JsonValueKind.String
                    || !EventIds.IsValidBrowserEventId(id.GetString()))
                {
                    return false;
                }

                events.Add((id.GetString()!, token.GetString()!));
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public void Dispose() => _limiter.Dispose();
}
