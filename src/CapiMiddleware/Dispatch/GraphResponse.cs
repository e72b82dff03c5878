using System.Text.Json.Serialization;

namespace CapiMiddleware.Dispatch;

/// <summary>Graph's answer to an accepted request.</summary>
internal sealed class GraphResponse
{
    [JsonPropertyName("events_received")]
    public int EventsReceived { get; init; }

    [JsonPropertyName("fbtrace_id")]
    public string? FbTraceId { get; init; }
}

/// <summary>Graph's error body: <c>{"error": {...}}</c>.</summary>
internal sealed class GraphErrorEnvelope
{
    [JsonPropertyName("error")]
    public GraphError? Error { get; init; }
}

/// <summary>The fields of a Graph error worth acting on and logging.</summary>
internal sealed class GraphError
{
    [JsonPropertyName("message")]
    public string? Message { get; init; }

    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("code")]
    public int? Code { get; init; }

    [JsonPropertyName("error_subcode")]
    public int? Subcode { get; init; }

    [JsonPropertyName("is_transient")]
    public bool? IsTransient { get; init; }

    [JsonPropertyName("error_user_title")]
    public string? UserTitle { get; init; }

    [JsonPropertyName("error_user_msg")]
    public string? UserMessage { get; init; }

    [JsonPropertyName("fbtrace_id")]
    public string? FbTraceId { get; init; }
}
