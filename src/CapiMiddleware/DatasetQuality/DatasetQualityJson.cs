using System.Text.Json;
using CapiMiddleware.Diagnostics;

namespace CapiMiddleware.DatasetQuality;

/// <summary>
/// The <c>datasetQuality</c> part of the inspector's <c>events.json</c> and <c>summary.json</c>: per pixel, Meta's
/// figures per event name beside the library's own (its match quality estimate and identifier coverage, the
/// browser/server pairing the beacons saw), with the fetch's state. Numbers as Meta gave them; absent figures are null.
/// </summary>
internal static class DatasetQualityJson
{
    public static void Write(Utf8JsonWriter json, MetaConversionsOptions options, IReadOnlyList<PixelQuality> pixels, LocalMatchQuality local, PixelReachSummary reach)
    {
        var settings = options.DatasetQuality;
        json.WriteStartObject("datasetQuality");
        json.WriteBoolean("enabled", settings.Enabled);
        json.WriteNumber("intervalSeconds", settings.Interval.TotalSeconds);
        json.WriteStartObject("floors");
        WriteNumber(json, "matchQuality", settings.MinimumMatchQuality);
        WriteNumber(json, "eventCoverage", settings.MinimumEventCoverage);
        json.WriteEndObject();
        json.WriteStartArray("pixels");
        if (settings.Enabled)
        {
            foreach (var pixel in pixels)
            {
                WritePixel(json, pixel, local, reach);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The status as the JSON names it.</summary>
    public static string StatusName(PixelQualityStatus status) => status switch
    {
        PixelQualityStatus.Fetched => "fetched",
        PixelQualityStatus.Failed => "failed",
        PixelQualityStatus.NoToken => "noToken",
        _ => "notFetchedYet",
    };

    private static void WritePixel(Utf8JsonWriter json, PixelQuality pixel, LocalMatchQuality local, PixelReachSummary reach)
    {
        json.WriteStartObject();
        json.WriteString("pixelId", pixel.PixelId);
        json.WriteString("status", StatusName(pixel.Status));
        WriteTime(json, "fetchedAt", pixel.FetchedAt);
        WriteTime(json, "lastAttemptAt", pixel.LastAttemptAt);
        WriteTime(json, "nextAttemptAt", pixel.NextAttemptAt);
        json.WriteNumber("consecutiveFailures", pixel.ConsecutiveFailures);
        json.WriteString("lastError", pixel.LastError);
        json.WriteStartArray("events");
        foreach (var row in pixel.Report?.Web ?? [])
        {
            if (row.EventName is { } name)
            {
                WriteEvent(json, name, row, local.For(name), reach.Events.TryGetValue(name, out var seen) ? seen : null);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteEvent(Utf8JsonWriter json, string name, DatasetQualityEvent row, LocalEventQuality? local, EventReach? seen)
    {
        json.WriteStartObject();
        json.WriteString("eventName", name);

        var quality = row.EventMatchQuality;
        json.WriteStartObject("matchQuality");
        WriteNumber(json, "compositeScore", quality?.CompositeScore);
        json.WriteStartArray("matchKeys");
        foreach (var key in quality?.MatchKeyFeedback ?? [])
        {
            json.WriteStartObject();
            json.WriteString("identifier", key.Identifier);
            WriteNumber(json, "coverage", key.Coverage?.Percentage);
            WriteNumber(json, "potentialAcrIncrease", key.PotentialAcrIncrease?.Percentage);
            json.WriteString("potentialAcrIncreaseDescription", key.PotentialAcrIncrease?.Description);
            var field = LocalMatchQuality.WireField(key.Identifier);
            json.WriteString("wireField", field);
            WriteNumber(json, "localCoverage", field is not null && local is not null ? Math.Round(local.Coverage(field), 1) : null);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("diagnostics");
        foreach (var diagnostic in quality?.Diagnostics ?? [])
        {
            json.WriteStartObject();
            json.WriteString("name", diagnostic.Name);
            json.WriteString("description", diagnostic.Description);
            json.WriteString("solution", diagnostic.Solution);
            WriteNumber(json, "percentage", diagnostic.Percentage);
            WriteNumber(json, "affectedEventCount", diagnostic.AffectedEventCount);
            WriteNumber(json, "totalEventCount", diagnostic.TotalEventCount);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();

        // The library's estimate for the same event name, from the events this process queued.
        if (local is not null)
        {
            json.WriteStartObject("localMatchQuality");
            json.WriteNumber("events", local.Events);
            json.WriteNumber("averageScore", Math.Round(local.AverageScore, 1));
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("localMatchQuality");
        }

        if (row.EventCoverage is { } coverage)
        {
            json.WriteStartObject("eventCoverage");
            WriteNumber(json, "percentage", coverage.Percentage);
            WriteNumber(json, "goalPercentage", coverage.GoalPercentage);
            json.WriteString("description", coverage.Description);
            WriteNumber(json, "potentialAcrIncrease", coverage.PotentialAcrIncrease?.Percentage);
            json.WriteString("potentialAcrIncreaseDescription", coverage.PotentialAcrIncrease?.Description);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("eventCoverage");
        }

        json.WriteStartArray("dedupeKeys");
        foreach (var key in row.DedupeKeys ?? [])
        {
            json.WriteStartObject();
            json.WriteString("dedupeKey", key.DedupeKey);
            WriteNumber(json, "browserEvents", key.BrowserEvents?.Percentage);
            WriteNumber(json, "serverEvents", key.ServerEvents?.Percentage);
            WriteNumber(json, "overallBrowserCoverage", key.OverallBrowserCoverage?.Percentage);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        // What the snippet's beacons saw of the same event name: both copies sent, or the server's alone.
        if (seen is not null)
        {
            json.WriteStartObject("pixelReach");
            json.WriteNumber("both", seen.Both);
            json.WriteNumber("serverOnly", seen.ServerOnly);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("pixelReach");
        }

        if (row.DataFreshness is { } freshness)
        {
            json.WriteStartObject("dataFreshness");
            json.WriteString("uploadFrequency", freshness.UploadFrequency);
            json.WriteString("description", freshness.Description);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("dataFreshness");
        }

        WriteFigure(json, "acr", row.Acr);
        WriteFigure(json, "potentialAcrIncrease", row.EventPotentialAcrIncrease);
        json.WriteEndObject();
    }

    private static void WriteFigure(Utf8JsonWriter json, string name, MetaFigure? figure)
    {
        if (figure is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        WriteNumber(json, "percentage", figure.Percentage);
        json.WriteString("description", figure.Description);
        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number && double.IsFinite(number))
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            json.WriteString(name, time);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
