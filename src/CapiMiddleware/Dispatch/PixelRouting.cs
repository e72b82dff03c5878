namespace CapiMiddleware.Dispatch;

/// <summary>Where one pixel's events go and with which credentials; <see cref="AccessToken"/> null means "show, don't send".</summary>
/// <param name="PixelId">The pixel, or empty when none is configured (show mode with no pixel).</param>
/// <param name="AccessToken">The token for this pixel, or <see langword="null"/>.</param>
/// <param name="AppSecret">The secret of the app that issued the token, or <see langword="null"/>.</param>
/// <param name="TestEventCode">The Test Events code, or <see langword="null"/>.</param>
/// <param name="TokenSetting">The configuration key the token comes from, for messages.</param>
internal sealed record PixelRoute(string PixelId, string? AccessToken, string? AppSecret, string? TestEventCode, string TokenSetting)
{
    public bool SendsToMeta => !string.IsNullOrEmpty(AccessToken);
}

/// <summary>
/// Which pixels an event goes to: <see cref="MetaConversionsOptions.PixelId"/> for every host, plus each of
/// <see cref="MetaConversionsOptions.Pixels"/> whose hosts match (all of them when it names none). Built once per
/// options instance; lookups allocate nothing.
/// </summary>
internal sealed class PixelRouting
{
    private const string Prefix = MetaConversionsOptions.SectionName + ":";

    private readonly PixelRoute[] _everyHost;
    private readonly Dictionary<string, PixelRoute[]> _byHost;
    private readonly Dictionary<string, PixelRoute> _byId;
    private readonly PixelRoute _fallback;

    private PixelRouting(MetaConversionsOptions options)
    {
        // In configuration order, each pixel with the hosts it is for (null: every host).
        var all = new List<(PixelRoute Route, HashSet<string>? Hosts)>();
        _byId = new Dictionary<string, PixelRoute>(StringComparer.Ordinal);
        _fallback = new PixelRoute(string.Empty, options.AccessToken, options.AppSecret, options.TestEventCode, Prefix + "AccessToken");

        if (!string.IsNullOrEmpty(options.PixelId))
        {
            var route = _fallback with { PixelId = options.PixelId };
            all.Add((route, null));
            _byId[route.PixelId] = route;
        }

        var pixels = options.Pixels ?? [];
        for (var i = 0; i < pixels.Count; i++)
        {
            var pixel = pixels[i];
            if (string.IsNullOrEmpty(pixel?.PixelId) || _byId.ContainsKey(pixel.PixelId))
            {
                continue; // the validator has said why
            }

            var ownToken = !string.IsNullOrEmpty(pixel.AccessToken);
            var route = new PixelRoute(
                pixel.PixelId,
                ownToken ? pixel.AccessToken : options.AccessToken,
                ownToken ? pixel.AppSecret : pixel.AppSecret ?? options.AppSecret,
                pixel.TestEventCode ?? options.TestEventCode,
                ownToken ? $"{Prefix}Pixels:{i}:AccessToken" : Prefix + "AccessToken");
            _byId[route.PixelId] = route;
            var hosts = pixel.Hosts?.Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => h.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
            all.Add((route, hosts is { Count: > 0 } ? hosts : null));
        }

        Configured = [.. all.Select(p => p.Route)];
        _everyHost = _byId.Count == 0 ? [_fallback] : [.. all.Where(p => p.Hosts is null).Select(p => p.Route)];
        AnySendsToMeta = _fallback.SendsToMeta || _byId.Values.Any(r => r.SendsToMeta);
        _byHost = new Dictionary<string, PixelRoute[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var host in all.Where(p => p.Hosts is not null).SelectMany(p => p.Hosts!).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            _byHost[host] = [.. all.Where(p => p.Hosts is null || p.Hosts.Contains(host)).Select(p => p.Route)];
        }
    }

    /// <summary>Whether any pixel (or, with none configured, the shared settings) has an access token.</summary>
    public bool AnySendsToMeta { get; }

    /// <summary>Every configured pixel, in configuration order; empty when none is.</summary>
    public IReadOnlyList<PixelRoute> Configured { get; }

    /// <summary>Whether more than one pixel is configured.</summary>
    public bool HasSeveral => _byId.Count > 1;

    /// <summary>The routing for <paramref name="options"/>, built on first use and kept with them.</summary>
    public static PixelRouting For(MetaConversionsOptions options) => options.Routing ??= new PixelRouting(options);

    /// <summary>
    /// The pixels of a request to <paramref name="host"/>, or of an event with no request when it is null: the ones the
    /// page initializes and the server sends to. When no pixel is configured, one route with an empty ID (show mode).
    /// </summary>
    public IReadOnlyList<PixelRoute> ForHost(string? host) =>
        !string.IsNullOrEmpty(host) && _byHost.Count > 0 && _byHost.TryGetValue(host, out var routes) ? routes : _everyHost;

    /// <summary>The configured pixel with this ID; for an ID no longer configured (a durable outbox's older entries), the shared settings.</summary>
    public PixelRoute ForPixel(string pixelId) =>
        _byId.TryGetValue(pixelId, out var route) ? route : _fallback with { PixelId = pixelId };

    /// <summary>Whether <paramref name="pixelId"/> is configured.</summary>
    public bool IsConfigured(string pixelId) => _byId.ContainsKey(pixelId);

    /// <summary>The IDs of the pixels the page of a request to <paramref name="host"/> initializes; empty when none is configured.</summary>
    public IReadOnlyList<string> PixelIdsForHost(string? host)
    {
        var routes = ForHost(host);
        if (routes.Count == 1 && routes[0].PixelId.Length == 0)
        {
            return [];
        }

        var ids = new string[routes.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = routes[i].PixelId;
        }

        return ids;
    }
}
