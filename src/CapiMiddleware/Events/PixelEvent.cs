using System.Text.Json.Serialization;

namespace CapiMiddleware.Events;

/// <summary>
/// The browser's copy of an event, as the snippet fires it: <c>fbq(method, name, data, { eventID })</c>.
/// The shape is shared with <c>client/src/meta-capi.d.ts</c>; change both together.
/// </summary>
internal sealed record PixelEvent(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("eventId")] string EventId,
    [property: JsonPropertyName("data")] GraphCustomData Data)
{
    /// <summary>The pixels to fire it for with <c>trackSingle</c>; <see langword="null"/> (omitted) for every pixel on the page.</summary>
    [JsonPropertyName("pixelIds")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? PixelIds { get; init; }
    /// <summary>This event's own data processing options, when it set some; the snippet applies them around it.</summary>
    [JsonPropertyName("dataProcessingOptions")]
    public PixelDataProcessingOptions? DataProcessingOptions { get; init; }

    public static string MethodFor(string eventName) => MetaEventNames.IsStandard(eventName) ? "track" : "trackCustom";
}

/// <summary>
/// The arguments of <c>fbq('dataProcessingOptions', options, country, state)</c>: <c>["LDU"]</c> with a country and a
/// state, or <c>[]</c> alone.
/// </summary>
internal sealed record PixelDataProcessingOptions(
    [property: JsonPropertyName("options")] string[] Options,
    [property: JsonPropertyName("country")] int? Country,
    [property: JsonPropertyName("state")] int? State)
{
    /// <summary>The options these arguments stand for.</summary>
    public DataProcessingOptions ToOptions() =>
        Options.Contains("LDU") ? DataProcessingOptions.LimitedDataUse(Country ?? 0, State ?? 0) : DataProcessingOptions.None;

    public static PixelDataProcessingOptions? From(DataProcessingOptions? options) => options switch
    {
        null => null,
        { IsLimitedDataUse: true } => new(["LDU"], options.Country, options.State),
        _ => new([], null, null),
    };
}

/// <summary>The JSON data block the tag helper renders into a page for the snippet (<c>#meta-capi-data</c>).</summary>
internal sealed class PixelPageData
{
    /// <summary>The shape's version, so a cached page and a newer snippet can tell each other apart.</summary>
    [JsonPropertyName("v")]
    public int Version { get; init; } = 1;

    /// <summary>The first of <see cref="PixelIds"/>, for snippets older than <c>pixelIds</c>.</summary>
    [JsonPropertyName("pixelId")]
    public string? PixelId { get; init; }

    /// <summary>The pixels of this page's host, which the snippet initializes when it loads the Pixel.</summary>
    [JsonPropertyName("pixelIds")]
    public IReadOnlyList<string> PixelIds { get; init; } = [];

    [JsonPropertyName("loadPixel")]
    public bool LoadPixel { get; init; }

    /// <summary>
    /// The domain the snippet writes <c>_fbc</c>/<c>_fbp</c> on: the same as the server's (the registrable domain by the
    /// Public Suffix List, or the configured one). Written even when null (host-only: an IP address, <c>localhost</c>),
    /// so the snippet knows the server decided, and does not look for a domain itself.
    /// </summary>
    [JsonPropertyName("cookieDomain")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? CookieDomain { get; init; }

    [JsonPropertyName("subdomainIndex")]
    public int SubdomainIndex { get; init; }

    /// <summary>
    /// Whether this request may be tracked. When <see langword="false"/>, the snippet tells the Pixel
    /// <c>fbq('consent', 'revoke')</c> before anything else and writes no cookies until <c>metaCapi.consent(true)</c>.
    /// </summary>
    [JsonPropertyName("consent")]
    public bool? Consent { get; init; } = true;

    /// <summary>
    /// <see langword="true"/> on a page a cache shares between visitors: it carries no per-visitor state (no consent, no
    /// event IDs, no carried events), and <see cref="Declared"/> lists its conversions for the snippet to report through
    /// <see cref="Collect"/>. Omitted otherwise.
    /// </summary>
    [JsonPropertyName("shared")]
    public bool? Shared { get; init; }

    /// <summary>The conversions a shared page declares, each with the token <c>POST /_capi/events</c> takes; omitted otherwise.</summary>
    [JsonPropertyName("declared")]
    public IReadOnlyList<DeclaredPixelEvent>? Declared { get; init; }

    /// <summary>Where the snippet sends the server's copy of <see cref="Declared"/> (<c>POST</c>); omitted otherwise.</summary>
    [JsonPropertyName("collect")]
    public string? Collect { get; init; }

    /// <summary><see langword="true"/> for a crawler: the snippet loads no Pixel, writes no cookies and fires nothing. Omitted otherwise.</summary>
    [JsonPropertyName("crawler")]
    public bool? Crawler { get; init; }

    /// <summary>The global Limited Data Use, for <c>fbq('dataProcessingOptions', ...)</c> before <c>init</c>; omitted when off.</summary>
    [JsonPropertyName("dataProcessingOptions")]
    public PixelDataProcessingOptions? DataProcessingOptions { get; init; }

    [JsonPropertyName("events")]
    public required IReadOnlyList<PixelEvent> Events { get; init; }

    /// <summary>Where the snippet asks for the browser's IP address for <c>_fbi</c> (<c>MetaConversions:ClientIpEndpoint</c>); omitted when not set.</summary>
    [JsonPropertyName("ipEndpoint")]
    public string? IpEndpoint { get; init; }

    /// <summary>Where the snippet reports whether the Pixel loaded (<c>POST</c>); null when that report is off.</summary>
    [JsonPropertyName("beacon")]
    public string? Beacon { get; init; }
}

/// <summary>A conversion a shared page declares: what the Pixel is handed, and the sealed declaration the server takes back.</summary>
internal sealed record DeclaredPixelEvent(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("data")] GraphCustomData Data,
    [property: JsonPropertyName("token")] string Token)
{
    [JsonPropertyName("pixelIds")]
    public IReadOnlyList<string>? PixelIds { get; init; }

    [JsonPropertyName("dataProcessingOptions")]
    public PixelDataProcessingOptions? DataProcessingOptions { get; init; }
}
