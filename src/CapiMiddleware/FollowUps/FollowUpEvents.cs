using System.Security.Cryptography;
using System.Text.Json;
using CapiMiddleware.Events;

namespace CapiMiddleware.FollowUps;

/// <summary>
/// Builds the event that carries a later value for an event already queued: the same name, pixels, action source,
/// page, messaging channel and user fields (as they were sent, hashed), the time of the follow-up, and
/// <c>original_event_data</c> naming the earlier event, so that Meta attaches the value to it. App events are not
/// followed up: Meta's value optimizations take web events, and their <c>app_data</c> is not carried over.
/// </summary>
internal static class FollowUpEvents
{
    /// <summary>The custom data a follow-up starts from: the earlier event's currency, value and order ID, which the caller may change.</summary>
    public static CustomData Seed(GraphEvent original) => new()
    {
        Currency = original.CustomData?.Currency,
        Value = original.CustomData?.Value,
        OrderId = original.CustomData?.OrderId,
    };

    /// <summary>The follow-up event of <paramref name="original"/> with <paramref name="data"/>, at <paramref name="now"/>.</summary>
    public static ConversionEvent Create(SentEvent sent, GraphEvent original, CustomData data, DateTimeOffset now) => new(original.EventName)
    {
        EventTime = now,
        ActionSource = FromWireName<ActionSource>(original.ActionSource, s => s.WireName()) ?? ActionSource.Other,
        EventSourceUrl = original.EventSourceUrl,
        ReferrerUrl = original.ReferrerUrl,
        CustomData = data,
        OriginalEventData = new OriginalEventData
        {
            EventName = original.EventName,
            EventTime = DateTimeOffset.FromUnixTimeSeconds(original.EventTime),
            OrderId = original.CustomData?.OrderId,
            EventId = original.EventId,
        },
        MessagingChannel = FromWireName<MessagingChannel>(original.MessagingChannel, c => c.WireName()),
        PixelIds = sent.PixelIds,
        PreparedUserData = original.UserData,
        DataProcessingOptions = original.DataProcessingOptions switch
        {
            null => null,
            { Length: 0 } => DataProcessingOptions.None,
            _ => DataProcessingOptions.LimitedDataUse(original.DataProcessingOptionsCountry ?? 0, original.DataProcessingOptionsState ?? 0),
        },
    };

    /// <summary>
    /// The follow-up's event ID: the earlier event's, and a digest of what the follow-up says. The same value sent twice
    /// (a job run again) gets the same ID, so Meta keeps one; a different value gets another.
    /// </summary>
    public static string EventIdOf(GraphEvent original, GraphCustomData? data)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data is null ? [] : JsonSerializer.SerializeToUtf8Bytes(data, GraphJsonContext.Default.GraphCustomData), digest);
        return original.EventId + "-fu-" + Convert.ToHexStringLower(digest[..6]);
    }

    /// <summary>The value of <typeparamref name="TEnum"/> whose wire name is <paramref name="wireName"/>; null when none is.</summary>
    private static TEnum? FromWireName<TEnum>(string? wireName, Func<TEnum, string?> wireNameOf)
        where TEnum : struct, Enum
    {
        foreach (var value in Enum.GetValues<TEnum>())
        {
            if (wireNameOf(value) == wireName)
            {
                return value;
            }
        }

        return null;
    }
}
