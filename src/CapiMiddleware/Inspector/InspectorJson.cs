using System.Buffers;
using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;

namespace CapiMiddleware.Inspector;

/// <summary>
/// <c>/_capi/inspector/events.json</c>: what the page shows, written straight from the record. Personal fields are the
/// hashed values of the wire; the IP address, the one personal value Meta takes unhashed, is masked as in the log.
/// </summary>
internal static class InspectorJson
{
    /// <summary>
    /// <c>/_capi/inspector/summary.json</c>, for dashboards: <c>pageViews</c>, <c>pixelBlocked</c>, and per event name
    /// <c>both</c> and <c>serverOnly</c>; then <c>datasetQuality</c>, Meta's own figures beside them
    /// (<see cref="DatasetQuality.DatasetQualityJson"/>), written by <paramref name="datasetQuality"/>.
    /// </summary>
    public static void WriteSummary(IBufferWriter<byte> output, PixelReachSummary summary, Action<Utf8JsonWriter>? datasetQuality = null)
    {
        using var json = new Utf8JsonWriter(output);
        WriteSummary(json, summary, datasetQuality);
    }

    public static void WriteEvents(IBufferWriter<byte> output, InspectorSnapshot snapshot, MetaConversionsOptions options, PixelReachSummary summary, Action<Utf8JsonWriter>? datasetQuality = null)
    {
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteBoolean("reportsPixelBlocking", options.ReportPixelBlocking);
        json.WritePropertyName("summary");
        WriteSummary(json, summary, datasetQuality);
        json.WriteNumber("version", snapshot.Version);
        json.WriteBoolean("full", snapshot.Full);
        json.WriteNumber("oldestSequence", snapshot.OldestSequence);
        json.WriteNumber("capacity", RecentEvents.Capacity);
        json.WriteBoolean("sendsToMeta", options.SendsToMeta);
        json.WriteString("pixelId", options.PixelId);
        json.WriteString("testEventCode", options.TestEventCode);
        json.WriteStartArray("events");
        foreach (var e in snapshot.Events)
        {
            WriteEvent(json, e);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteEvent(Utf8JsonWriter json, InspectedEvent e)
    {
        json.WriteStartObject();
        json.WriteNumber("sequence", e.Sequence);
        json.WriteNumber("version", e.Version);
        json.WriteString("eventName", e.EventName);
        json.WriteString("eventId", e.EventId);
        json.WriteString("actionSource", e.ActionSource);
        json.WriteString("recordedAt", e.RecordedAt);
        json.WriteString("updatedAt", e.UpdatedAt);
        json.WriteString("status", StatusName(e.Status));
        json.WriteString("detail", e.Detail);
        json.WriteString("fbtraceId", e.FbTraceId);
        json.WriteNumber("sendAttempts", e.SendAttempts);
        json.WriteString("eventIdFrom", e.EventIdSource switch
        {
            EventIdSource.Server => "server",
            EventIdSource.Browser => "browser",
            EventIdSource.Generated => "generated",
            _ => null,
        });
        json.WriteString("browserCopy", e.BrowserCopy switch
        {
            PixelReach.Side.Both => "both",
            PixelReach.Side.ServerOnly => "serverOnly",
            _ => null,
        });

        if (e.MatchQuality is { } quality)
        {
            json.WriteStartObject("matchQuality");
            json.WriteNumber("score", quality.Score);
            json.WriteString("band", quality.Band.ToString());
            WriteStrings(json, "identifiers", quality.Identifiers);
            WriteStrings(json, "missing", quality.Missing);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("matchQuality");
        }

        json.WriteNumber("serverBytes", e.ServerPayloadLength);
        if (e.ServerPayload is { } payload)
        {
            json.WritePropertyName("server");
            json.WriteRawValue(LogOnlyTransport.MaskClientAddress(payload), skipInputValidation: true);
        }
        else
        {
            json.WriteNull("server");
        }

        if (e.Pixel is { } pixel)
        {
            json.WriteStartObject("pixel");
            json.WriteString("handover", pixel.Handover switch
            {
                PixelHandover.Page => "page",
                PixelHandover.Redirect => "redirect",
                _ => "browser",
            });
            if (pixel.Event is { } handed)
            {
                json.WritePropertyName("event");
                JsonSerializer.Serialize(json, handed, GraphJsonContext.Default.PixelEvent);
            }

            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("pixel");
        }

        json.WriteEndObject();
    }

    /// <summary>The status as the JSON names it.</summary>
    public static string StatusName(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Queued => "queued",
        DeliveryStatus.Sent => "sent",
        DeliveryStatus.Shown => "shown",
        DeliveryStatus.Deferred => "deferred",
        DeliveryStatus.Paused => "paused",
        DeliveryStatus.Rejected => "rejected",
        DeliveryStatus.Dropped => "dropped",
        _ => "invalid",
    };

    private static void WriteSummary(Utf8JsonWriter json, PixelReachSummary summary, Action<Utf8JsonWriter>? datasetQuality)
    {
        json.WriteStartObject();
        json.WriteNumber("pageViews", summary.PageViews);
        json.WriteNumber("pixelBlocked", summary.PixelBlocked);
        json.WriteStartObject("events");
        foreach (var (name, reach) in summary.Events)
        {
            json.WriteStartObject(name);
            json.WriteNumber("both", reach.Both);
            json.WriteNumber("serverOnly", reach.ServerOnly);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        datasetQuality?.Invoke(json);
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
