namespace CapiMiddleware;

/// <summary>
/// What Meta needs to know about the app an <see cref="ActionSource.App"/> event happened in (<c>app_data</c>): the
/// tracking consent and the device. Meta requires <see cref="AdvertiserTrackingEnabled"/> and
/// <see cref="ExtendedDeviceInfo"/> (with its version and OS version) for app events; without them the event is refused
/// before it is queued.
/// </summary>
public sealed record AppData
{
    /// <summary>
    /// Whether the person allowed the app to track them for ads (<c>advertiser_tracking_enabled</c>): on iOS 14.5 and
    /// later, the App Tracking Transparency answer. Required for app events. Sent here only: the Node SDK 24.0.1 also
    /// sends it on the event itself, the newer Python SDK 25.0.2 no longer does.
    /// </summary>
    public bool? AdvertiserTrackingEnabled { get; init; }

    /// <summary>Whether the person left ad tracking on in the app's own settings (<c>application_tracking_enabled</c>).</summary>
    public bool? ApplicationTrackingEnabled { get; init; }

    /// <summary>The device and app details (<c>extinfo</c>). Required for app events.</summary>
    public ExtendedDeviceInfo? ExtendedDeviceInfo { get; init; }

    /// <summary>The encrypted campaign metadata the ad's deep link carried (<c>campaign_ids</c>).</summary>
    public string? CampaignIds { get; init; }

    /// <summary>Whether Meta should count views for attribution (<c>consider_views</c>).</summary>
    public bool? ConsiderViews { get; init; }

    /// <summary>Whether dwell data is included (<c>include_dwell_data</c>).</summary>
    public bool? IncludeDwellData { get; init; }

    /// <summary>Whether video data is included (<c>include_video_data</c>).</summary>
    public bool? IncludeVideoData { get; init; }

    /// <summary>The third-party install referrer, Android only (<c>install_referrer</c>).</summary>
    public string? InstallReferrer { get; init; }

    /// <summary>The package that installed the app, Android only (<c>installer_package</c>).</summary>
    public string? InstallerPackage { get; init; }

    /// <summary>The App Store receipt, iOS only (<c>receipt_data</c>).</summary>
    public string? ReceiptData { get; init; }

    /// <summary>The app's URL schemes (<c>url_schemes</c>), sent as the array Meta's documentation types it (the SDKs type it a string).</summary>
    public IReadOnlyList<string>? UrlSchemes { get; init; }

    /// <summary>The vendor ID (<c>vendor_id</c>); in Meta's documentation, in neither SDK.</summary>
    public string? VendorId { get; init; }

    /// <summary>The attribution token of Windows 10 apps (<c>windows_attribution_id</c>).</summary>
    public string? WindowsAttributionId { get; init; }
}

/// <summary>
/// The device and app details of an app event (<c>extinfo</c>). Sent as Meta's documentation wants: an array of 16
/// strings in this order, <c>""</c> where a detail is unknown. (The Node SDK 24.0.1 writes an object keyed <c>"0"</c> to
/// <c>"15"</c> instead, leaving unknown ones out.)
/// </summary>
public sealed record ExtendedDeviceInfo
{
    /// <summary>[0] <c>a2</c> for Android, <c>i2</c> for iOS. Required.</summary>
    public string? Version { get; init; }

    /// <summary>[1] The app's package name, such as <c>com.example.shop</c>.</summary>
    public string? PackageName { get; init; }

    /// <summary>[2] The app's short version, such as <c>1.0</c>.</summary>
    public string? ShortVersion { get; init; }

    /// <summary>[3] The app's long version, such as <c>1.0 long</c>.</summary>
    public string? LongVersion { get; init; }

    /// <summary>[4] The OS version, such as <c>17.4.1</c>. Required.</summary>
    public string? OsVersion { get; init; }

    /// <summary>[5] The device model, such as <c>iPhone15,2</c>.</summary>
    public string? DeviceModel { get; init; }

    /// <summary>[6] The locale, such as <c>en_US</c>.</summary>
    public string? Locale { get; init; }

    /// <summary>[7] The time zone's abbreviation, such as <c>PDT</c>.</summary>
    public string? TimeZoneAbbreviation { get; init; }

    /// <summary>[8] The carrier, such as <c>AT&amp;T</c>.</summary>
    public string? Carrier { get; init; }

    /// <summary>[9] The screen width in pixels.</summary>
    public int? ScreenWidth { get; init; }

    /// <summary>[10] The screen height in pixels.</summary>
    public int? ScreenHeight { get; init; }

    /// <summary>[11] The screen density, such as <c>2.00</c>.</summary>
    public string? ScreenDensity { get; init; }

    /// <summary>[12] The number of CPU cores.</summary>
    public int? CpuCores { get; init; }

    /// <summary>[13] The external storage's size in GB.</summary>
    public decimal? TotalDiskSpaceGb { get; init; }

    /// <summary>[14] The free space on the external storage in GB.</summary>
    public decimal? FreeDiskSpaceGb { get; init; }

    /// <summary>[15] The device's time zone, such as <c>America/New_York</c>.</summary>
    public string? DeviceTimeZone { get; init; }

    /// <summary>The 16 positions as Meta's documentation lists them, numbers in invariant form, <c>""</c> where unknown.</summary>
    internal string[] ToWire()
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        return
        [
            Version ?? "", PackageName ?? "", ShortVersion ?? "", LongVersion ?? "", OsVersion ?? "", DeviceModel ?? "",
            Locale ?? "", TimeZoneAbbreviation ?? "", Carrier ?? "", ScreenWidth?.ToString(invariant) ?? "",
            ScreenHeight?.ToString(invariant) ?? "", ScreenDensity ?? "", CpuCores?.ToString(invariant) ?? "",
            TotalDiskSpaceGb?.ToString(invariant) ?? "", FreeDiskSpaceGb?.ToString(invariant) ?? "", DeviceTimeZone ?? "",
        ];
    }
}
