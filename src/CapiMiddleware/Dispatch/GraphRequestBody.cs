using System.Buffers;
using System.Text.Json;

namespace CapiMiddleware.Dispatch;

/// <summary>
/// Writes the body of <c>POST /{version}/{pixel}/events</c>: the entries' pre-serialized events spliced into
/// <c>data</c>, plus <c>test_event_code</c> and <c>partner_agent</c>. The access token travels in a header, never here.
/// </summary>
internal static class GraphRequestBody
{
    public static readonly string PartnerAgent = "capimiddleware-" + typeof(GraphRequestBody).Assembly.GetName().Version?.ToString(3);

    public static void Write(IBufferWriter<byte> buffer, IReadOnlyList<OutboxEntry> batch, string? testEventCode, Func<byte[], byte[]>? transform = null)
    {
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WriteStartArray("data");
        foreach (var entry in batch)
        {
            writer.WriteRawValue(transform is null ? entry.Payload : transform(entry.Payload), skipInputValidation: true);
        }

        writer.WriteEndArray();
        if (!string.IsNullOrEmpty(testEventCode))
        {
            writer.WriteString("test_event_code", testEventCode);
        }

        writer.WriteString("partner_agent", PartnerAgent);
        writer.WriteEndObject();
    }

    public static string EventsPath(MetaConversionsOptions options, string pixelId) =>
        $"{options.GraphApiBaseUrl.TrimEnd('/')}/{options.GraphApiVersion}/{Uri.EscapeDataString(pixelId)}/events";
}
