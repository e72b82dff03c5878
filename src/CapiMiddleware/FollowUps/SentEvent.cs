using System.Text.Json.Serialization;
using CapiMiddleware.Records;

namespace CapiMiddleware.FollowUps;

/// <summary>
/// An event as it was queued, remembered so a later value can refer to it: the pixels it went to and its wire JSON,
/// whose user fields are already hashed (nothing raw is kept).
/// </summary>
/// <param name="PixelIds">The pixels it was queued for.</param>
/// <param name="Payload">Its <c>GraphEvent</c> JSON, byte for byte as queued.</param>
/// <param name="QueuedAt">When it was queued.</param>
/// <param name="PointsTo">Under an order ID: the key the event is kept under (then nothing else is set), so it is kept once.</param>
internal sealed record SentEvent(string[] PixelIds, byte[] Payload, DateTimeOffset QueuedAt, string? PointsTo = null) : IKeptRecord
{
    DateTimeOffset IKeptRecord.KeptAt => QueuedAt;

    /// <summary>How the durable stores keep them: table <c>sent_events</c>, Redis keys <c>{prefix}:sent:{key}</c>.</summary>
    internal static KeptRecordSet<SentEvent> Set { get; } = new()
    {
        Name = "sent_events",
        ItemName = "sent",
        ValueProperty = "Event",
        Json = SentEventJsonContext.Default.SentEvent,

        // Found by key only, never counted: Redis keeps each as a plain key with its expiry (no index to maintain).
        Counted = false,
    };
}

/// <summary>Source-generated serialization of <see cref="SentEvent"/>.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SentEvent))]
internal sealed partial class SentEventJsonContext : JsonSerializerContext;
