using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.DatasetQuality;

/// <summary>Where a pixel's Dataset Quality figures stand, as the inspector names it.</summary>
internal enum PixelQualityStatus
{
    /// <summary>Fetching is on, nothing fetched yet.</summary>
    NotFetchedYet,

    /// <summary>The last fetch worked.</summary>
    Fetched,

    /// <summary>The last fetch failed (older figures, if any, are kept and shown with their time).</summary>
    Failed,

    /// <summary>No token to read them with.</summary>
    NoToken,
}

/// <summary>One pixel's latest figures and how fetching them goes.</summary>
/// <param name="PixelId">The pixel (dataset).</param>
/// <param name="Report">Meta's last answer, kept across later failures.</param>
/// <param name="FetchedAt">When <paramref name="Report"/> was fetched.</param>
/// <param name="LastAttemptAt">When a fetch was last tried.</param>
/// <param name="NextAttemptAt">When the next one is due.</param>
/// <param name="LastError">Why the last attempt failed, if it did (never the token).</param>
/// <param name="LastFailure">Its kind; <see cref="FetchFailure.None"/> after a success.</param>
/// <param name="ConsecutiveFailures">Failed attempts since the last success.</param>
/// <param name="HasToken">Whether there is a token to fetch with.</param>
internal sealed record PixelQuality(
    string PixelId,
    DatasetQualityResponse? Report,
    DateTimeOffset? FetchedAt,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt,
    string? LastError,
    FetchFailure LastFailure,
    int ConsecutiveFailures,
    bool HasToken)
{
    public PixelQualityStatus Status =>
        !HasToken ? PixelQualityStatus.NoToken
        : ConsecutiveFailures > 0 ? PixelQualityStatus.Failed
        : Report is not null ? PixelQualityStatus.Fetched
        : PixelQualityStatus.NotFetchedYet;

    public static PixelQuality NotFetched(string pixelId, bool hasToken) => new(pixelId, null, null, null, null, null, FetchFailure.None, 0, hasToken);
}

/// <summary>
/// The latest Dataset Quality figures per pixel, written by <see cref="DatasetQualityFetcher"/> and read by the
/// inspector, the health check and the gauges it registers on the library's meter. Each pixel's state is one immutable
/// <see cref="PixelQuality"/>, replaced whole.
/// </summary>
internal sealed class DatasetQualityReports
{
    private readonly ConcurrentDictionary<string, PixelQuality> _pixels = new(StringComparer.Ordinal);
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;

    public DatasetQualityReports(ConversionMetrics metrics, IOptionsMonitor<MetaConversionsOptions> options, TimeProvider time)
    {
        _options = options;
        _time = time;
        var meter = metrics.Meter;
        meter.CreateObservableGauge(
            "capimiddleware.dataset_quality.match_quality", ObserveMatchQuality, "{score}",
            "Meta's Event Match Quality (0 to 10) of the server's events, by pixel_id and event_name, from the Dataset Quality API.");
        meter.CreateObservableGauge(
            "capimiddleware.dataset_quality.event_coverage", ObserveEventCoverage, "%",
            "Meta's event coverage: the 7-day share of the Pixel's events covered by server events with shared deduplication keys, by pixel_id and event_name.");
        meter.CreateObservableGauge(
            "capimiddleware.dataset_quality.dedupe_key_coverage", ObserveDedupeKeys, "%",
            "Meta's deduplication key feedback, by pixel_id, event_name, dedupe_key and measure: browser_events, server_events (the share carrying the key), overall_browser_coverage (the browser events deduplicated through it).");
        meter.CreateObservableGauge(
            "capimiddleware.dataset_quality.age", ObserveAge, "s",
            "Seconds since each pixel's Dataset Quality figures were fetched, by pixel_id.");
    }

    /// <summary>When the fetcher started, for the health check's "never fetched" bound; null before.</summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>A pixel's state, or null before the fetcher has looked at it.</summary>
    public PixelQuality? Get(string pixelId) => _pixels.TryGetValue(pixelId, out var quality) ? quality : null;

    public void Set(PixelQuality quality) => _pixels[quality.PixelId] = quality;

    /// <summary>The configured pixels' states, in configuration order (those not looked at yet as not fetched).</summary>
    public IReadOnlyList<PixelQuality> Snapshot(MetaConversionsOptions options)
    {
        var routes = PixelRouting.For(options).Configured;
        var result = new PixelQuality[routes.Count];
        for (var i = 0; i < routes.Count; i++)
        {
            result[i] = Get(routes[i].PixelId) ?? PixelQuality.NotFetched(routes[i].PixelId, TokenFor(options, routes[i]) is not null);
        }

        return result;
    }

    /// <summary>The token a pixel's figures are read with, and the app secret that proves it.</summary>
    public static string? TokenFor(MetaConversionsOptions options, PixelRoute route) =>
        options.DatasetQuality.AccessToken is { Length: > 0 } own ? own : route.AccessToken is { Length: > 0 } token ? token : null;

    public static string? AppSecretFor(MetaConversionsOptions options, PixelRoute route) =>
        options.DatasetQuality.AccessToken is { Length: > 0 } ? options.DatasetQuality.AppSecret : route.AppSecret;

    /// <summary>
    /// What the health check says about Meta's figures, or null when there is nothing to say: only with floors set,
    /// an event below one (the description names pixel, event and figure), or figures older than
    /// <see cref="DatasetQualityDefaults.StaleAfterIntervals"/> intervals (or none that long after the start).
    /// </summary>
    public string? HealthProblem(MetaConversionsOptions options)
    {
        var settings = options.DatasetQuality;
        if (!settings.Enabled || settings.MinimumMatchQuality is null && settings.MinimumEventCoverage is null)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        var startedAt = StartedAt ?? now;
        var staleAfter = settings.Interval * DatasetQualityDefaults.StaleAfterIntervals;
        var below = new List<string>();
        var stale = new List<string>();
        foreach (var pixel in Snapshot(options))
        {
            if (!pixel.HasToken)
            {
                stale.Add($"pixel {pixel.PixelId} has no token to read them with");
                continue;
            }

            if ((pixel.FetchedAt ?? startedAt) + staleAfter <= now)
            {
                stale.Add(pixel.FetchedAt is { } at
                    ? string.Create(CultureInfo.InvariantCulture, $"pixel {pixel.PixelId}'s are from {at:u}") + (pixel.LastError is { } error ? $" (last error: {error})" : "")
                    : $"pixel {pixel.PixelId}'s were never fetched" + (pixel.LastError is { } never ? $" (last error: {never})" : ""));
            }

            foreach (var row in pixel.Report?.Web ?? [])
            {
                if (row.EventName is not { } name || settings.EventNames.Count > 0 && !settings.EventNames.Contains(name, StringComparer.Ordinal))
                {
                    continue;
                }

                if (settings.MinimumMatchQuality is { } minQuality && row.EventMatchQuality?.CompositeScore is { } score && score < minQuality)
                {
                    below.Add(string.Create(CultureInfo.InvariantCulture, $"pixel {pixel.PixelId} {name}: match quality {score:0.0} < {minQuality:0.0}"));
                }

                if (settings.MinimumEventCoverage is { } minCoverage && row.EventCoverage?.Percentage is { } coverage && coverage < minCoverage)
                {
                    below.Add(string.Create(CultureInfo.InvariantCulture, $"pixel {pixel.PixelId} {name}: event coverage {coverage:0.#}% < {minCoverage:0.#}%"));
                }
            }
        }

        if (below.Count == 0 && stale.Count == 0)
        {
            return null;
        }

        var text = new StringBuilder();
        if (below.Count > 0)
        {
            text.Append("Meta's Dataset Quality is below the floors of MetaConversions:DatasetQuality: ").AppendJoin("; ", below).Append('.');
        }

        if (stale.Count > 0)
        {
            text.Append(text.Length > 0 ? " " : "")
                .Append(CultureInfo.InvariantCulture, $"Meta's Dataset Quality figures are older than {staleAfter} or missing, so the floors cannot be checked: ")
                .AppendJoin("; ", stale).Append('.');
        }

        return text.ToString();
    }

    private IEnumerable<Measurement<double>> ObserveMatchQuality()
    {
        foreach (var (pixel, row) in Rows())
        {
            if (row.EventMatchQuality?.CompositeScore is { } score)
            {
                yield return new Measurement<double>(score, Tag("pixel_id", pixel), Tag("event_name", row.EventName));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveEventCoverage()
    {
        foreach (var (pixel, row) in Rows())
        {
            if (row.EventCoverage?.Percentage is { } coverage)
            {
                yield return new Measurement<double>(coverage, Tag("pixel_id", pixel), Tag("event_name", row.EventName));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveDedupeKeys()
    {
        foreach (var (pixel, row) in Rows())
        {
            foreach (var key in row.DedupeKeys ?? [])
            {
                if (key.DedupeKey is not { } name)
                {
                    continue;
                }

                foreach (var (measure, figure) in new[] { ("browser_events", key.BrowserEvents), ("server_events", key.ServerEvents), ("overall_browser_coverage", key.OverallBrowserCoverage) })
                {
                    if (figure?.Percentage is { } percentage)
                    {
                        yield return new Measurement<double>(percentage,
                            Tag("pixel_id", pixel), Tag("event_name", row.EventName), Tag("dedupe_key", name), Tag("measure", measure));
                    }
                }
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveAge()
    {
        var now = _time.GetUtcNow();
        foreach (var pixel in _pixels.Values)
        {
            if (pixel.FetchedAt is { } at)
            {
                yield return new Measurement<double>((now - at).TotalSeconds, Tag("pixel_id", pixel.PixelId));
            }
        }
    }

    /// <summary>Every event row of every configured pixel's last answer, while fetching is on.</summary>
    private IEnumerable<(string PixelId, DatasetQualityEvent Row)> Rows()
    {
        var options = _options.CurrentValue;
        if (!options.DatasetQuality.Enabled)
        {
            yield break;
        }

        foreach (var pixel in Snapshot(options))
        {
            foreach (var row in pixel.Report?.Web ?? [])
            {
                if (row.EventName is not null)
                {
                    yield return (pixel.PixelId, row);
                }
            }
        }
    }

    private static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}
