using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Context;

/// <summary>
/// Carries the Pixel's copy of events across a redirect (POST-redirect-GET checkouts): a short-lived, HttpOnly,
/// data-protected cookie that the next page's tag helper reads once and deletes. Protected so nobody can plant
/// events in it; it holds no personal data, only what the Pixel would be handed anyway. A captured value cannot be
/// replayed: its lifetime is sealed inside it and enforced here (not only by the browser's <c>Max-Age</c>), and each
/// event it carries is handed to a page once (this process remembers the carried events it handed over for as long as
/// a value lives).
/// </summary>
internal sealed class PendingPixelEvents
{
    public const string CookieName = "_capi_px";

    /// <summary>How long a carried event waits for the next page, in the browser and on the server.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>How many handed-over events are remembered at most; past it, the oldest is forgotten first.</summary>
    public const int MaxRemembered = 10_000;

    // Browsers keep cookies up to about 4 KB; leave room for the name and attributes.
    private const int MaxCookieValueLength = 3800;

    private readonly IDataProtector _protector;
    private readonly TimeProvider _time;
    private readonly ILogger<PendingPixelEvents> _logger;
    private readonly LogThrottle _unreadable = new(LogThrottle.PerMinute);
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Name, string Id), long> _handed = [];
    private readonly Queue<((string Name, string Id) Key, long ExpiresTicks)> _handedOrder = new();

    public PendingPixelEvents(IDataProtectionProvider dataProtection, TimeProvider time, ILogger<PendingPixelEvents> logger)
    {
        // v2: the value starts with its expiry. A v1 value (no expiry) is unreadable, and so skipped.
        _protector = dataProtection.CreateProtector("CapiMiddleware.PendingPixelEvents.v2");
        _time = time;
        _logger = logger;
    }

    /// <summary>How many handed-over events are remembered now.</summary>
    internal int RememberedCount
    {
        get
        {
            lock (_gate)
            {
                return _handed.Count;
            }
        }
    }

    /// <summary>Adds events for the page after the redirect, keeping any not yet shown.</summary>
    public void Carry(HttpContext context, IReadOnlyList<PixelEvent> events)
    {
        // What this response carries already (several events, or a page that took the old ones), else what came in.
        var scope = ConversionScope.Get(context);
        var all = scope.CarriedPixelEvents ??= Read(context);
        all.AddRange(events);
        var json = JsonSerializer.SerializeToUtf8Bytes(all, GraphJsonContext.Default.ListPixelEvent);
        var sealedValue = new byte[sizeof(long) + json.Length];
        BinaryPrimitives.WriteInt64LittleEndian(sealedValue, (_time.GetUtcNow() + Lifetime).UtcTicks);
        json.CopyTo(sealedValue, sizeof(long));
        var value = Base64Url.EncodeToString(_protector.Protect(sealedValue));
        if (value.Length > MaxCookieValueLength)
        {
            Log.PixelEventsTooLarge(_logger, events.Count);
            return;
        }

        context.Response.Cookies.Append(CookieName, value, new CookieOptions
        {
            Path = "/",
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            MaxAge = Lifetime,
            IsEssential = true, // only carried for a request that may be tracked (TrackingConsent)
        });
    }

    /// <summary>
    /// Takes the carried events, once: the cookie is deleted when the response can still say so, and an event handed
    /// to a page before (a replayed value) is left out.
    /// </summary>
    public List<PixelEvent> Take(HttpContext context)
    {
        var scope = ConversionScope.Get(context);
        var carriedHere = scope.CarriedPixelEvents is { Count: > 0 };
        var events = scope.CarriedPixelEvents ?? Read(context);
        scope.CarriedPixelEvents = [];
        if ((carriedHere || context.Request.Cookies.ContainsKey(CookieName)) && !context.Response.HasStarted)
        {
            context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });
        }

        return events.Count == 0 ? events : FirstHandovers(events);
    }

    /// <summary>Keeps the events no page was handed yet, and remembers them as handed.</summary>
    private List<PixelEvent> FirstHandovers(List<PixelEvent> events)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var expires = now + Lifetime.Ticks;
        var first = new List<PixelEvent>(events.Count);
        lock (_gate)
        {
            while (_handedOrder.TryPeek(out var oldest) && (oldest.ExpiresTicks <= now || _handedOrder.Count >= MaxRemembered))
            {
                _handedOrder.Dequeue();
                if (_handed.TryGetValue(oldest.Key, out var ticks) && ticks == oldest.ExpiresTicks)
                {
                    _handed.Remove(oldest.Key);
                }
            }

            foreach (var pixelEvent in events)
            {
                var key = (pixelEvent.Name, pixelEvent.EventId);
                if (_handed.TryAdd(key, expires))
                {
                    _handedOrder.Enqueue((key, expires));
                    first.Add(pixelEvent);
                }
            }
        }

        return first;
    }

    private List<PixelEvent> Read(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value) || value.Length > MaxCookieValueLength)
        {
            return [];
        }

        try
        {
            var sealedValue = _protector.Unprotect(Base64Url.DecodeFromChars(value));
            if (sealedValue.Length < sizeof(long))
            {
                throw new FormatException("The carried value has no expiry.");
            }

            if (BinaryPrimitives.ReadInt64LittleEndian(sealedValue) <= _time.GetUtcNow().UtcTicks)
            {
                // The browser drops the cookie after its Max-Age; an older value is a replay (or a clock gone wrong).
                Log.PendingPixelEventsExpired(_logger);
                return [];
            }

            return JsonSerializer.Deserialize(sealedValue.AsSpan(sizeof(long)), GraphJsonContext.Default.ListPixelEvent) ?? [];
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            if (_unreadable.ShouldLog(_time, out var occurrences))
            {
                Log.PendingPixelEventsUnreadable(_logger, occurrences);
            }

            return [];
        }
    }
}
