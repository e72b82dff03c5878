using System.Text.Json.Serialization;

namespace CapiMiddleware.DatasetQuality;

// The answer of GET /{version}/dataset_quality, as Meta's Dataset Quality API page documents it (checked against its
// examples, May 2025 additions included): one row per event name under "web", no all-events row. Every member is
// optional: Graph returns only the fields asked for, and leaves out what it has no figure for.

/// <summary>The answer's root: <c>{"web": [...]}</c>.</summary>
internal sealed class DatasetQualityResponse
{
    [JsonPropertyName("web")]
    public List<DatasetQualityEvent>? Web { get; init; }
}

/// <summary>Meta's figures for one event name of the dataset.</summary>
internal sealed class DatasetQualityEvent
{
    [JsonPropertyName("event_name")]
    public string? EventName { get; init; }

    /// <summary>Event Match Quality: a score out of 10 for the server's events, with feedback per match key.</summary>
    [JsonPropertyName("event_match_quality")]
    public EventMatchQuality? EventMatchQuality { get; init; }

    /// <summary>For an event not sent through the Conversions API: the median gain similar advertisers saw by sending it.</summary>
    [JsonPropertyName("event_potential_aly_acr_increase")]
    public MetaFigure? EventPotentialAcrIncrease { get; init; }

    /// <summary>Additional Conversions Reported: how many more conversions the last 7 days counted thanks to the Conversions API.</summary>
    [JsonPropertyName("acr")]
    public MetaFigure? Acr { get; init; }

    /// <summary>The 7-day share of the Pixel's events that the Conversions API covers with shared deduplication keys.</summary>
    [JsonPropertyName("event_coverage")]
    public EventCoverage? EventCoverage { get; init; }

    /// <summary>Per deduplication key, the share of browser and server events carrying it. Every example spells it so.</summary>
    [JsonPropertyName("dedupe_key_feedback")]
    public List<DedupeKeyFeedback>? DedupeKeyFeedback { get; init; }

    /// <summary>
    /// The same list under the spelling of the page's field table (<c>dedup_key_feedback</c>); the examples, the Python
    /// SDK and the request use <c>dedupe_key_feedback</c>. Read in case Graph answers with this one.
    /// </summary>
    [JsonPropertyName("dedup_key_feedback")]
    public List<DedupeKeyFeedback>? DedupKeyFeedback { get; init; }

    /// <summary>How often the server's instances of this event reach Meta.</summary>
    [JsonPropertyName("data_freshness")]
    public DataFreshness? DataFreshness { get; init; }

    /// <summary>Whichever spelling Graph used.</summary>
    [JsonIgnore]
    public List<DedupeKeyFeedback>? DedupeKeys => DedupeKeyFeedback ?? DedupKeyFeedback;
}

/// <summary><c>event_match_quality</c> (Graph's <c>AdsPixelCAPIEMQ</c>).</summary>
internal sealed class EventMatchQuality
{
    /// <summary>The score, 0 to 10.</summary>
    [JsonPropertyName("composite_score")]
    public double? CompositeScore { get; init; }

    [JsonPropertyName("match_key_feedback")]
    public List<MatchKeyFeedback>? MatchKeyFeedback { get; init; }

    [JsonPropertyName("diagnostics")]
    public List<MatchQualityDiagnostic>? Diagnostics { get; init; }
}

/// <summary>One customer information parameter (<c>email</c>, <c>ip_address</c>, ...) and how the server's events carry it.</summary>
internal sealed class MatchKeyFeedback
{
    [JsonPropertyName("identifier")]
    public string? Identifier { get; init; }

    /// <summary>The share of the server's events that carry it.</summary>
    [JsonPropertyName("coverage")]
    public MetaFigure? Coverage { get; init; }

    /// <summary>The median gain in additional conversions reported of similar advertisers who send it validly.</summary>
    [JsonPropertyName("potential_aly_acr_increase")]
    public MetaFigure? PotentialAcrIncrease { get; init; }
}

/// <summary>A problem Meta found with the match keys, with its share of the events and what to do.</summary>
internal sealed class MatchQualityDiagnostic
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("description")]
    public string? Description { get; init; }

    [JsonPropertyName("solution")]
    public string? Solution { get; init; }

    [JsonPropertyName("percentage")]
    public double? Percentage { get; init; }

    [JsonPropertyName("affected_event_count")]
    public long? AffectedEventCount { get; init; }

    [JsonPropertyName("total_event_count")]
    public long? TotalEventCount { get; init; }
}

/// <summary><c>event_coverage</c>: the figure, Meta's goal (75 in the examples), and the gain of reaching it.</summary>
internal sealed class EventCoverage
{
    [JsonPropertyName("percentage")]
    public double? Percentage { get; init; }

    [JsonPropertyName("goal_percentage")]
    public double? GoalPercentage { get; init; }

    [JsonPropertyName("description")]
    public string? Description { get; init; }

    [JsonPropertyName("potential_aly_acr_increase")]
    public MetaFigure? PotentialAcrIncrease { get; init; }
}

/// <summary>One deduplication key (<c>event_id</c>, <c>external_id</c>, <c>fbp</c>...).</summary>
internal sealed class DedupeKeyFeedback
{
    [JsonPropertyName("dedupe_key")]
    public string? DedupeKey { get; init; }

    [JsonPropertyName("browser_events_with_dedupe_key")]
    public MetaFigure? BrowserEvents { get; init; }

    [JsonPropertyName("server_events_with_dedupe_key")]
    public MetaFigure? ServerEvents { get; init; }

    /// <summary>The share of browser events deduplicated with server events through this key; incremental per key.</summary>
    [JsonPropertyName("overall_browser_coverage_from_dedupe_key")]
    public MetaFigure? OverallBrowserCoverage { get; init; }
}

/// <summary><c>data_freshness</c>: <c>upload_frequency</c> such as <c>real_time</c> or <c>hourly</c>.</summary>
internal sealed class DataFreshness
{
    [JsonPropertyName("upload_frequency")]
    public string? UploadFrequency { get; init; }

    [JsonPropertyName("description")]
    public string? Description { get; init; }
}

/// <summary>A percentage with Meta's sentence about it, the shape most of the API's figures share.</summary>
internal sealed class MetaFigure
{
    [JsonPropertyName("percentage")]
    public double? Percentage { get; init; }

    [JsonPropertyName("description")]
    public string? Description { get; init; }
}

/// <summary>Source-generated (de)serialization of the Dataset Quality answer: no reflection, trimming and AOT friendly.</summary>
[JsonSerializable(typeof(DatasetQualityResponse))]
[JsonSerializable(typeof(Dispatch.GraphErrorEnvelope))]
internal sealed partial class DatasetQualityJsonContext : JsonSerializerContext;
