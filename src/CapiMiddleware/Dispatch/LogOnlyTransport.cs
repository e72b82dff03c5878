using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CapiMiddleware.Diagnostics;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Dispatch;

/// <summary>
/// "Show, don't send": without an access token, each batch is written to the log at Information level exactly as
/// it would be posted, so the library can be tried with no Meta account. Only the visitor's IP address is masked,
/// because it is personal data sent unhashed.
/// </summary>
internal sealed class LogOnlyTransport : IConversionTransport
{
    private readonly ILogger<LogOnlyTransport> _logger;

    public LogOnlyTransport(ILogger<LogOnlyTransport> logger) => _logger = logger;

    public Task<GraphSendResult> SendAsync(PixelRoute pixel, IReadOnlyList<OutboxEntry> batch, MetaConversionsOptions options, CancellationToken cancellationToken)
    {
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var buffer = new ArrayBufferWriter<byte>();
            GraphRequestBody.Write(buffer, batch, pixel.TestEventCode, MaskClientAddress);
            var target = string.IsNullOrEmpty(pixel.PixelId) ? "(no MetaConversions:PixelId set)" : GraphRequestBody.EventsPath(options, pixel.PixelId);
            Log.WouldSend(_logger, batch.Count, pixel.TokenSetting, target, Encoding.UTF8.GetString(buffer.WrittenSpan));
            foreach (var entry in batch)
            {
                Log.WouldSendEvent(_logger, entry.EventName, entry.EventId, EstimateMatchQuality(entry.Payload));
            }
        }

        return Task.FromResult(GraphSendResult.Accepted(batch.Count, null));
    }

    private static MatchQuality EstimateMatchQuality(byte[] payload) =>
        JsonNode.Parse(payload)?["user_data"] is JsonObject user
            ? MatchQuality.Estimate(user.ContainsKey)
            : MatchQuality.Estimate(static _ => false);

    /// <summary>The event with its IP address masked; also what the inspector shows.</summary>
    internal static byte[] MaskClientAddress(byte[] payload)
    {
        var node = JsonNode.Parse(payload);
        if (node?["user_data"] is JsonObject user && user["client_ip_address"]?.GetValue<string>() is { } ip)
        {
            user["client_ip_address"] = Mask(ip);
            return Encoding.UTF8.GetBytes(node.ToJsonString());
        }

        return payload;
    }

    // Keeps the network, drops the host: 203.0.113.7 -> 203.0.113.x; IPv6 keeps its first 48 bits.
    internal static string Mask(string ip)
    {
        if (!IPAddress.TryParse(ip, out var address))
        {
            return "(masked)";
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return ip[..(ip.LastIndexOf('.') + 1)] + "x";
        }

        var bytes = address.GetAddressBytes();
        return $"{bytes[0]:x2}{bytes[1]:x2}:{bytes[2]:x2}{bytes[3]:x2}:{bytes[4]:x2}{bytes[5]:x2}::x";
    }
}
