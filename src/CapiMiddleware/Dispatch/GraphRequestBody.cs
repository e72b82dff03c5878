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

    public static void Write(
        IBufferWriter<byte> buffer,
        IReadOnlyList<OutboxEntry> batch,
        string? testEventCode,
        Func<byte[], byte[]>? transform = null,
        string? appSecretProof = null)
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
        if (appSecretProof is not null)
        {
            writer.WriteString("appsecret_proof", appSecretProof);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Graph's <c>appsecret_proof</c>: HMAC-SHA256 of the access token keyed with the app secret, lowercase hex. It proves
    /// the token is used by the app's own server; a token stolen without the secret is then useless.
    /// </summary>
    public static string AppSecretProof(string accessToken, string appSecret) =>
        Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(appSecret), System.Text.Encoding.UTF8.GetBytes(accessToken)));

    public static string EventsPath(MetaConversionsOptions options, string pixelId) =>
        $"{options.GraphApiBaseUrl.TrimEnd('/')}/{options.GraphApiVersion}/{Uri.EscapeDataString(pixelId)}/events";
}
