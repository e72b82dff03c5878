namespace CapiMiddleware;

/// <summary>
/// How a conversion was attributed to an ad (<c>attribution_data</c>), for an attribution passback: the fields of the
/// Node SDK 24.0.1 and the newer Python SDK 25.0.2 (which adds <see cref="TouchpointId"/>, <see cref="TotalCredit"/>
/// and <see cref="PartnerClientId"/>; version 26 could not be read). Set what is known; nothing is sent when every
/// field is empty.
/// </summary>
public sealed record AttributionData
{
    /// <summary>The attribution's scope (<c>scope</c>).</summary>
    public string? Scope { get; init; }

    /// <summary>When the person visited (<c>visit_time</c>, sent as Unix seconds).</summary>
    public DateTimeOffset? VisitTime { get; init; }

    /// <summary>The ad credited (<c>ad_id</c>).</summary>
    public string? AdId { get; init; }

    /// <summary>The ad set credited (<c>adset_id</c>).</summary>
    public string? AdSetId { get; init; }

    /// <summary>The campaign credited (<c>campaign_id</c>).</summary>
    public string? CampaignId { get; init; }

    /// <summary>The share of the credit the ad gets, 0 to 1 (<c>attribution_share</c>).</summary>
    public decimal? AttributionShare { get; init; }

    /// <summary>The attribution model used (<c>attribution_model</c>).</summary>
    public AttributionModel? AttributionModel { get; init; }

    /// <summary>The attribution window (<c>attr_window</c>).</summary>
    public int? AttributionWindow { get; init; }

    /// <summary>The value attributed to the ad (<c>attribution_value</c>).</summary>
    public decimal? AttributionValue { get; init; }

    /// <summary>Who attributed it (<c>attribution_source</c>).</summary>
    public string? AttributionSource { get; init; }

    /// <summary>The kind of touchpoint, such as a click or a view (<c>touchpoint_type</c>).</summary>
    public string? TouchpointType { get; init; }

    /// <summary>When the touchpoint happened (<c>touchpoint_ts</c>, sent as Unix seconds).</summary>
    public DateTimeOffset? TouchpointTime { get; init; }

    /// <summary>How the attribution was made (<c>attribution_method</c>).</summary>
    public AttributionMethod? AttributionMethod { get; init; }

    /// <summary>Why the conversion was not attributed to Meta (<c>decline_reason</c>).</summary>
    public DeclineReason? DeclineReason { get; init; }

    /// <summary>The auditing token (<c>auditing_token</c>).</summary>
    public string? AuditingToken { get; init; }

    /// <summary>The linkage key (<c>linkage_key</c>).</summary>
    public string? LinkageKey { get; init; }

    /// <summary>The touchpoint's ID (<c>touchpoint_id</c>; Python SDK 25.0.2, not in the Node SDK 24.0.1).</summary>
    public string? TouchpointId { get; init; }

    /// <summary>The total credit given (<c>total_credit</c>; Python SDK 25.0.2, not in the Node SDK 24.0.1).</summary>
    public decimal? TotalCredit { get; init; }

    /// <summary>The partner's client ID (<c>partner_client_id</c>; Python SDK 25.0.2, not in the Node SDK 24.0.1).</summary>
    public string? PartnerClientId { get; init; }

    /// <summary>The attribution windows applied (<c>attribution_setting</c>).</summary>
    public AttributionSetting? AttributionSetting { get; init; }
}

/// <summary>The attribution windows applied to an <see cref="AttributionData"/> (<c>attribution_setting</c>).</summary>
public sealed record AttributionSetting
{
    /// <summary>The inactivity window in hours (<c>inactivity_window_hours</c>); 0 is sent.</summary>
    public int? InactivityWindowHours { get; init; }

    /// <summary>The reattribution window in hours (<c>reattribution_window_hours</c>); 0 is sent.</summary>
    public int? ReattributionWindowHours { get; init; }
}

/// <summary>The attribution model of an <see cref="AttributionData"/> (<c>attribution_model</c>).</summary>
public enum AttributionModel
{
    /// <summary><c>customized_multi_touch</c>.</summary>
    CustomizedMultiTouch,

    /// <summary><c>first_touch</c>.</summary>
    FirstTouch,

    /// <summary><c>last_click</c>.</summary>
    LastClick,

    /// <summary><c>last_touch</c>.</summary>
    LastTouch,

    /// <summary><c>linear</c>.</summary>
    Linear,

    /// <summary><c>position_based</c>.</summary>
    PositionBased,

    /// <summary><c>time_decay</c>.</summary>
    TimeDecay,

    /// <summary><c>unknown</c>.</summary>
    Unknown,
}

/// <summary>How an <see cref="AttributionData"/> was made (<c>attribution_method</c>).</summary>
public enum AttributionMethod
{
    /// <summary><c>ard</c>.</summary>
    Ard,

    /// <summary><c>deeplink</c>.</summary>
    Deeplink,

    /// <summary><c>gpir</c>.</summary>
    Gpir,

    /// <summary><c>invalid_response</c>.</summary>
    InvalidResponse,

    /// <summary><c>mir</c>.</summary>
    Mir,

    /// <summary><c>srn</c>.</summary>
    Srn,
}

/// <summary>Why a conversion was not attributed to Meta (<c>decline_reason</c>).</summary>
public enum DeclineReason
{
    /// <summary><c>attribute_to_other_source</c>.</summary>
    AttributeToOtherSource,

    /// <summary><c>out_of_lookback_window</c>.</summary>
    OutOfLookbackWindow,

    /// <summary><c>view_through_disabled</c>.</summary>
    ViewThroughDisabled,

    /// <summary><c>within_inactive_window</c>.</summary>
    WithinInactiveWindow,

    /// <summary><c>inactive</c>.</summary>
    Inactive,

    /// <summary><c>fraud_detected</c>.</summary>
    FraudDetected,

    /// <summary><c>unknown</c>.</summary>
    Unknown,

    /// <summary><c>reinstall_attribution_disabled</c>.</summary>
    ReinstallAttributionDisabled,

    /// <summary><c>lookback</c>.</summary>
    Lookback,

    /// <summary><c>not_pmod_match</c>.</summary>
    NotPmodMatch,

    /// <summary><c>validation_rule_detected</c>.</summary>
    ValidationRuleDetected,

    /// <summary><c>preload_install</c>.</summary>
    PreloadInstall,

    /// <summary><c>min_time_between_re_engagements</c>.</summary>
    MinTimeBetweenReEngagements,

    /// <summary><c>duplicated</c>.</summary>
    Duplicated,

    /// <summary><c>pmod_disabled</c>.</summary>
    PmodDisabled,
}

/// <summary>The wire strings of the attribution enums; <see langword="null"/> for a value outside the enum.</summary>
internal static class AttributionWireNames
{
    public static string? WireName(this AttributionModel model) => model switch
    {
        AttributionModel.CustomizedMultiTouch => "customized_multi_touch",
        AttributionModel.FirstTouch => "first_touch",
        AttributionModel.LastClick => "last_click",
        AttributionModel.LastTouch => "last_touch",
        AttributionModel.Linear => "linear",
        AttributionModel.PositionBased => "position_based",
        AttributionModel.TimeDecay => "time_decay",
        AttributionModel.Unknown => "unknown",
        _ => null,
    };

    public static string? WireName(this AttributionMethod method) => method switch
    {
        AttributionMethod.Ard => "ard",
        AttributionMethod.Deeplink => "deeplink",
        AttributionMethod.Gpir => "gpir",
        AttributionMethod.InvalidResponse => "invalid_response",
        AttributionMethod.Mir => "mir",
        AttributionMethod.Srn => "srn",
        _ => null,
    };

    public static string? WireName(this DeclineReason reason) => reason switch
    {
        DeclineReason.AttributeToOtherSource => "attribute_to_other_source",
        DeclineReason.OutOfLookbackWindow => "out_of_lookback_window",
        DeclineReason.ViewThroughDisabled => "view_through_disabled",
        DeclineReason.WithinInactiveWindow => "within_inactive_window",
        DeclineReason.Inactive => "inactive",
        DeclineReason.FraudDetected => "fraud_detected",
        DeclineReason.Unknown => "unknown",
        DeclineReason.ReinstallAttributionDisabled => "reinstall_attribution_disabled",
        DeclineReason.Lookback => "lookback",
        DeclineReason.NotPmodMatch => "not_pmod_match",
        DeclineReason.ValidationRuleDetected => "validation_rule_detected",
        DeclineReason.PreloadInstall => "preload_install",
        DeclineReason.MinTimeBetweenReEngagements => "min_time_between_re_engagements",
        DeclineReason.Duplicated => "duplicated",
        DeclineReason.PmodDisabled => "pmod_disabled",
        _ => null,
    };
}
