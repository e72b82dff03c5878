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

    [JsonPropertyName("attribution_data")]
    public GraphAttributionData? AttributionData { get; init; }

    [JsonPropertyName("messaging_channel")]
    public string? MessagingChannel { get; init; }

    [JsonPropertyName("app_data")]
    public GraphAppData? AppData { get; init; }

    [JsonPropertyName("advanced_measurement_table")]
    public string? AdvancedMeasurementTable { get; init; }
}

/// <summary>The <c>attribution_data</c> object of an attribution passback.</summary>
internal sealed class GraphAttributionData
{
    [JsonPropertyName("scope")]
    public string? Scope { get; set; }

    [JsonPropertyName("visit_time")]
    public long? VisitTime { get; set; }

    [JsonPropertyName("ad_id")]
    public string? AdId { get; set; }

    [JsonPropertyName("adset_id")]
    public string? AdSetId { get; set; }

    [JsonPropertyName("campaign_id")]
    public string? CampaignId { get; set; }

    [JsonPropertyName("attribution_share")]
    public decimal? AttributionShare { get; set; }

    [JsonPropertyName("attribution_model")]
    public string? AttributionModel { get; set; }

    [JsonPropertyName("attr_window")]
    public int? AttributionWindow { get; set; }

    [JsonPropertyName("attribution_value")]
    public decimal? AttributionValue { get; set; }

    [JsonPropertyName("attribution_source")]
    public string? AttributionSource { get; set; }

    [JsonPropertyName("touchpoint_type")]
    public string? TouchpointType { get; set; }

    [JsonPropertyName("touchpoint_ts")]
    public long? TouchpointTime { get; set; }

    [JsonPropertyName("attribution_method")]
    public string? AttributionMethod { get; set; }

    [JsonPropertyName("decline_reason")]
    public string? DeclineReason { get; set; }

    [JsonPropertyName("auditing_token")]
    public string? AuditingToken { get; set; }

    [JsonPropertyName("linkage_key")]
    public string? LinkageKey { get; set; }

    [JsonPropertyName("touchpoint_id")]
    public string? TouchpointId { get; set; }

    [JsonPropertyName("total_credit")]
    public decimal? TotalCredit { get; set; }

    [JsonPropertyName("partner_client_id")]
    public string? PartnerClientId { get; set; }

    [JsonPropertyName("attribution_setting")]
    public GraphAttributionSetting? AttributionSetting { get; set; }
}

internal sealed class GraphAttributionSetting
{
    [JsonPropertyName("inactivity_window_hours")]
    public int? InactivityWindowHours { get; set; }

    [JsonPropertyName("reattribution_window_hours")]
    public int? ReattributionWindowHours { get; set; }
}

/// <summary>The <c>app_data</c> object of an app event.</summary>
internal sealed class GraphAppData
{
    [JsonPropertyName("advertiser_tracking_enabled")]
    public bool? AdvertiserTrackingEnabled { get; set; }

    [JsonPropertyName("application_tracking_enabled")]
    public bool? ApplicationTrackingEnabled { get; set; }

    /// <summary>The 16 positions of <c>extinfo</c>, <c>""</c> where unknown, as Meta's documentation wants them.</summary>
    [JsonPropertyName("extinfo")]
    public string[]? ExtendedDeviceInfo { get; set; }

    [JsonPropertyName("campaign_ids")]
    public string? CampaignIds { get; set; }

    [JsonPropertyName("consider_views")]
    public bool? ConsiderViews { get; set; }

    [JsonPropertyName("include_dwell_data")]
    public bool? IncludeDwellData { get; set; }

    [JsonPropertyName("include_video_data")]
    public bool? IncludeVideoData { get; set; }

    [JsonPropertyName("install_referrer")]
    public string? InstallReferrer { get; set; }

    [JsonPropertyName("installer_package")]
    public string? InstallerPackage { get; set; }

    [JsonPropertyName("receipt_data")]
    public string? ReceiptData { get; set; }

    [JsonPropertyName("url_schemes")]
    public string[]? UrlSchemes { get; set; }

    [JsonPropertyName("vendor_id")]
    public string? VendorId { get; set; }

    [JsonPropertyName("windows_attribution_id")]
    public string? WindowsAttributionId { get; set; }
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

    [JsonPropertyName("subscription_id")]
    public string? SubscriptionId { get; set; }

    [JsonPropertyName("fb_login_id")]
    public string? FacebookLoginId { get; set; }

    [JsonPropertyName("lead_id")]
    public string? LeadId { get; set; }

    [JsonPropertyName("f5first")]
    public string? FirstNamePrefix { get; set; }

    [JsonPropertyName("f5last")]
    public string? LastNamePrefix { get; set; }

    [JsonPropertyName("fi")]
    public string? FirstInitial { get; set; }

    [JsonPropertyName("dobd")]
    public string? BirthDay { get; set; }

    [JsonPropertyName("dobm")]
    public string? BirthMonth { get; set; }

    [JsonPropertyName("doby")]
    public string? BirthYear { get; set; }

    [JsonPropertyName("madid")]
    public string? AdvertisingId { get; set; }

    [JsonPropertyName("anon_id")]
    public string? InstallId { get; set; }

    [JsonPropertyName("app_user_id")]
    public string? AppUserId { get; set; }

    [JsonPropertyName("ctwa_clid")]
    public string? WhatsAppClickId { get; set; }

    [JsonPropertyName("page_id")]
    public string? PageId { get; set; }

    [JsonPropertyName("page_scoped_user_id")]
    public string? PageScopedUserId { get; set; }

    [JsonPropertyName("ig_account_id")]
    public string? InstagramAccountId { get; set; }

    [JsonPropertyName("ig_sid")]
    public string? InstagramScopedUserId { get; set; }

    [JsonPropertyName("whatsapp_business_account_id")]
    public string? WhatsAppBusinessAccountId { get; set; }

    [JsonPropertyName("instagram_business_account_id")]
    public string? InstagramBusinessAccountId { get; set; }

    /// <summary>Whether no field is left: Meta refuses an event without one.</summary>
    [JsonIgnore]
    public bool IsEmpty => Email is null && Phone is null && FirstName is null && LastName is null && Gender is null
        && DateOfBirth is null && City is null && State is null && Zip is null && Country is null && ExternalId is null
        && ClientIpAddress is null && ClientUserAgent is null && ClickId is null && BrowserId is null
        && SubscriptionId is null && FacebookLoginId is null && LeadId is null && FirstNamePrefix is null
        && LastNamePrefix is null && FirstInitial is null && BirthDay is null && BirthMonth is null && BirthYear is null
        && AdvertisingId is null && InstallId is null && AppUserId is null && WhatsAppClickId is null && PageId is null
        && PageScopedUserId is null && InstagramAccountId is null && InstagramScopedUserId is null
        && WhatsAppBusinessAccountId is null && InstagramBusinessAccountId is null;
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

    [JsonPropertyName("item_number")]
    public string? ItemNumber { get; set; }

    [JsonPropertyName("delivery_category")]
    public string? DeliveryCategory { get; set; }

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
    [property: JsonPropertyName("item_price")] decimal? ItemPrice)
{
    [JsonPropertyName("title")]
    public string? Title { get; init; }

    [JsonPropertyName("description")]
    public string? Description { get; init; }

    [JsonPropertyName("brand")]
    public string? Brand { get; init; }

    [JsonPropertyName("category")]
    public string? Category { get; init; }

    [JsonPropertyName("delivery_category")]
    public string? DeliveryCategory { get; init; }
}
