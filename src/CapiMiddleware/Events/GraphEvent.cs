using System.Text.Json;
using System.Text.Json.Serialization;

namespace CapiMiddleware.Events;

// The Conversions API's wire shapes. Personal fields here are already normalized and hashed.

internal sealed class GraphEvent
{
    [JsonPropertyName("event_name")]
    public required string EventName { get; init; }

    [JsonPropertyName("event_time")]
    public required long EventTime { get; init; }

    [JsonPropertyName("event_id")]
    public required string EventId { get; init; }

    [JsonPropertyName("action_source")]
    public required string ActionSource { get; init; }

    [JsonPropertyName("event_source_url")]
    public string? EventSourceUrl { get; init; }

    [JsonPropertyName("referrer_url")]
    public string? ReferrerUrl { get; init; }

    [JsonPropertyName("opt_out")]
    public bool? OptOut { get; init; }

    /// <summary><c>["LDU"]</c> for Limited Data Use, <c>[]</c> for none; absent when the event says nothing.</summary>
    [JsonPropertyName("data_processing_options")]
    public string[]? DataProcessingOptions { get; init; }

    [JsonPropertyName("data_processing_options_country")]
    public int? DataProcessingOptionsCountry { get; init; }

    [JsonPropertyName("data_processing_options_state")]
    public int? DataProcessingOptionsState { get; init; }

    [JsonPropertyName("user_data")]
    public required GraphUserData UserData { get; init; }

    [JsonPropertyName("custom_data")]
    public GraphCustomData? CustomData { get; init; }

    [JsonPropertyName("original_event_data")]
    public GraphOriginalEventData? OriginalEventData { get; init; }
}

/// <summary>The <c>original_event_data</c> object: the earlier event a follow-up (a later value, an attribution) refers to.</summary>
internal sealed class GraphOriginalEventData
{
    [JsonPropertyName("event_name")]
    public string? EventName { get; set; }

    [JsonPropertyName("event_time")]
    public long? EventTime { get; set; }

    [JsonPropertyName("order_id")]
    public string? OrderId { get; set; }

    [JsonPropertyName("event_id")]
    public string? EventId { get; set; }
}

internal sealed class GraphUserData
{
    [JsonPropertyName("em")]
    public string[]? Email { get; set; }

    [JsonPropertyName("ph")]
    public string[]? Phone { get; set; }

    [JsonPropertyName("fn")]
    public string[]? FirstName { get; set; }

    [JsonPropertyName("ln")]
    public string[]? LastName { get; set; }

    [JsonPropertyName("ge")]
    public string[]? Gender { get; set; }

    [JsonPropertyName("db")]
    public string[]? DateOfBirth { get; set; }

    [JsonPropertyName("ct")]
    public string[]? City { get; set; }

    [JsonPropertyName("st")]
    public string[]? State { get; set; }

    [JsonPropertyName("zp")]
    public string[]? Zip { get; set; }

    [JsonPropertyName("country")]
    public string[]? Country { get; set; }

    [JsonPropertyName("external_id")]
    public string[]? ExternalId { get; set; }

    [JsonPropertyName("client_ip_address")]
    public string? ClientIpAddress { get; set; }

    [JsonPropertyName("client_user_agent")]
    public string? ClientUserAgent { get; set; }

    [JsonPropertyName("fbc")]
    public string? ClickId { get; set; }

    [JsonPropertyName("fbp")]
    public string? BrowserId { get; set; }

    /// <summary>Whether no field is left: Meta refuses an event without one.</summary>
    [JsonIgnore]
    public bool IsEmpty => Email is null && Phone is null && FirstName is null && LastName is null && Gender is null
        && DateOfBirth is null && City is null && State is null && Zip is null && Country is null && ExternalId is null
        && ClientIpAddress is null && ClientUserAgent is null && ClickId is null && BrowserId is null;
}

/// <summary>The <c>custom_data</c> object; the Pixel is handed the same object as its event parameters.</summary>
internal sealed class GraphCustomData
{
    [JsonPropertyName("value")]
    public decimal? Value { get; set; }

    [JsonPropertyName("currency")]
    public string? Currency { get; set; }

    [JsonPropertyName("order_id")]
    public string? OrderId { get; set; }

    [JsonPropertyName("content_ids")]
    public string[]? ContentIds { get; set; }

    [JsonPropertyName("contents")]
    public GraphContent[]? Contents { get; set; }

    [JsonPropertyName("content_type")]
    public string? ContentType { get; set; }

    [JsonPropertyName("content_name")]
    public string? ContentName { get; set; }

    [JsonPropertyName("content_category")]
    public string? ContentCategory { get; set; }

    [JsonPropertyName("num_items")]
    public int? NumItems { get; set; }

    [JsonPropertyName("search_string")]
    public string? SearchString { get; set; }

    [JsonPropertyName("status")]
    public string? Status { get; set; }

    [JsonPropertyName("net_revenue")]
    public decimal? NetRevenue { get; set; }

    [JsonPropertyName("predicted_ltv")]
    public decimal? PredictedLtv { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Properties { get; set; }
}

internal sealed record GraphContent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("quantity")] int Quantity,
    [property: JsonPropertyName("item_price")] decimal? ItemPrice);
