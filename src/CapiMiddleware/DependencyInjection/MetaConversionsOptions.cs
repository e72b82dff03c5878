using Microsoft.AspNetCore.Http;

namespace CapiMiddleware;

/// <summary>
/// Settings of the Meta Conversions API integration, bound from the <c>MetaConversions</c> configuration section
/// (environment variables <c>MetaConversions__PixelId</c> and so on). Validated at start-up.
/// </summary>
public sealed class MetaConversionsOptions
{
    /// <summary>The configuration section these options are bound from by default.</summary>
    public const string SectionName = "MetaConversions";

    /// <summary>
    /// Whether server events and cookies are on. When <see langword="false"/> the application runs as if the library
    /// were not there: no cookies, no events, no page data, and the paths of the snippet, the beacon and the inspector are
    /// left to the application. The default value is <see langword="true"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The Meta Pixel (dataset) ID that events are sent to, digits only.</summary>
    public string? PixelId { get; set; }

    /// <summary>
    /// More pixels (datasets) that events go to, each with its own access token if needed and optionally only for
    /// some hosts (one pixel per storefront, say): <c>MetaConversions:Pixels:0:PixelId</c>,
    /// <c>MetaConversions:Pixels:0:AccessToken</c>, <c>MetaConversions:Pixels:0:Hosts:0</c>. An event goes to
    /// <see cref="PixelId"/> and to every pixel here whose <see cref="MetaPixelOptions.Hosts"/> match the request's host
    /// (or name none), each copy with the same event ID. The default value is empty.
    /// </summary>
    public IList<MetaPixelOptions> Pixels { get; set; } = new List<MetaPixelOptions>();

    /// <summary>
    /// The Conversions API access token. When absent, nothing is sent: each batch is written to the log at
    /// Information level instead, exactly as it would be sent ("show, don't send"). Never logged, never put in a URL.
    /// </summary>
    public string? AccessToken { get; set; }

    /// <summary>
    /// The Meta app's secret, optional. When set, each request carries Graph's <c>appsecret_proof</c> (an HMAC of the
    /// token keyed with this secret), so the token alone is useless to whoever steals it; turn on "Require app secret"
    /// in the app's settings to enforce it. Never logged, never sent. The default value is <see langword="null"/>.
    /// </summary>
    public string? AppSecret { get; set; }

    /// <summary>The Graph API base address. The default value is <c>https://graph.facebook.com</c>.</summary>
    public string GraphApiBaseUrl { get; set; } = MetaConversionsDefaults.GraphApiBaseUrl;

    /// <summary>The Graph API version. The default value is <c>v24.0</c>.</summary>
    public string GraphApiVersion { get; set; } = MetaConversionsDefaults.GraphApiVersion;

    /// <summary>
    /// Routes events to the Test Events tab of Meta's Events Manager instead of live data. Set it per environment;
    /// the default value is <see langword="null"/> (live).
    /// </summary>
    public string? TestEventCode { get; set; }

    /// <summary>
    /// The registrable domain for the <c>_fbc</c> and <c>_fbp</c> cookies, such as <c>example.com</c>, so that
    /// <c>www.</c> and <c>shop.</c> share one identity. The default value is <see langword="null"/>: host-only cookies.
    /// </summary>
    public string? CookieDomain { get; set; }

    /// <summary>How many events one request to Meta carries at most, 1 to 1,000. The default value is 1,000.</summary>
    public int BatchSize { get; set; } = MetaConversionsDefaults.BatchSize;

    /// <summary>How long an event may wait for others to fill its batch. The default value is 1 second.</summary>
    public TimeSpan FlushInterval { get; set; } = MetaConversionsDefaults.FlushInterval;

    /// <summary>
    /// How many events the <c>memory</c> outbox may hold, retries included. When full, new events are dropped with a
    /// warning (the request never waits). The durable stores are not bounded by it: they grow on disk, and drop only
    /// what has grown too old for Meta. The default value is 10,000.
    /// </summary>
    public int QueueCapacity { get; set; } = MetaConversionsDefaults.QueueCapacity;

    /// <summary>How long one attempt to send a batch may take. The default value is 10 seconds.</summary>
    public TimeSpan AttemptTimeout { get; set; } = MetaConversionsDefaults.AttemptTimeout;

    /// <summary>
    /// How many times a batch is retried after a temporary failure (network error, time-out, HTTP 5xx or 429,
    /// Graph's temporary and throttling codes), with exponential back-off and jitter, honouring <c>Retry-After</c>.
    /// The default value is 4.
    /// </summary>
    public int MaxRetryAttempts { get; set; } = MetaConversionsDefaults.MaxRetryAttempts;

    /// <summary>The first retry's delay; each next one doubles it, with jitter. The default value is 1 second.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = MetaConversionsDefaults.RetryBaseDelay;

    /// <summary>
    /// Whether a signed-in user's standard claims fill the user fields an action leaves empty: email
    /// (<c>ClaimTypes.Email</c>), phone (<c>MobilePhone</c>), first and last name (<c>GivenName</c>, <c>Surname</c>) and
    /// external ID (<c>NameIdentifier</c>). The default value is <see langword="true"/>.
    /// </summary>
    public bool FillUserDataFromClaims { get; set; } = true;

    /// <summary>
    /// Whether the snippet reports, once per page view, whether Meta's Pixel library loaded and which events the page
    /// handled (<c>POST /_capi/beacon</c>, mapped by <c>app.MapMetaConversions()</c>; no personal data), so the inspector
    /// can say how many page views had the Pixel blocked and which events reached Meta only through the server. While
    /// <see langword="false"/>, the beacon's path is left to the application. The default value is <see langword="true"/>.
    /// </summary>
    public bool ReportPixelBlocking { get; set; } = true;

    /// <summary>
    /// After a batch's retries are spent, how long it waits before it is tried again (longer when Meta's
    /// <c>Retry-After</c> says so). The default value is 30 seconds.
    /// </summary>
    public TimeSpan RequeueDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>While Meta refuses the token, how often sending is tried again unless the options change (1 minute).</summary>
    internal TimeSpan TokenProbeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Where events wait to be sent: in memory (the default), in an SQLite file, or in Redis.</summary>
    public OutboxOptions Outbox { get; set; } = new();

    /// <summary>
    /// The visitors' identities captured at checkout, kept until the payment provider confirms the payment: how long,
    /// and how many in memory. They are kept in the outbox's store.
    /// </summary>
    public IdentityOptions Identities { get; set; } = new();

    /// <summary>
    /// Later values for events already sent (<see cref="IConversionQueue.AppendToAsync"/>): which events are remembered
    /// for them, for how long, and how many in memory. They are kept in the outbox's store.
    /// </summary>
    public FollowUpOptions FollowUps { get; set; } = new();

    /// <summary>The inspector page at <c>/_capi/inspector</c>: on in Development by default, behind a policy elsewhere.</summary>
    public InspectorOptions Inspector { get; set; } = new();

    /// <summary>
    /// Meta's Dataset Quality figures (Event Match Quality, event coverage, deduplication keys, data freshness,
    /// additional conversions reported), fetched on a schedule and shown beside the library's own. Off by default.
    /// </summary>
    public DatasetQualityOptions DatasetQuality { get; set; } = new();


    /// <summary>Whether any pixel has a token, so events are sent rather than shown in the log.</summary>
    internal bool SendsToMeta => Dispatch.PixelRouting.For(this).AnySendsToMeta;

    /// <summary>Which pixels events go to, built from these options on first use (<see cref="Dispatch.PixelRouting.For"/>).</summary>
    /// <remarks>A field, as the configuration-binding generator binds every property it can reach, and this is no setting.</remarks>
    internal Dispatch.PixelRouting? Routing;

    // ---- Consent, Limited Data Use and crawlers ----

    /// <summary>
    /// Decides whether a request may be tracked, for consent platforms that know better than ASP.NET Core's
    /// <see cref="Microsoft.AspNetCore.Http.Features.ITrackingConsentFeature"/>: <see langword="true"/> tracks,
    /// <see langword="false"/> does not (no <c>_fbc</c>/<c>_fbp</c> cookies, no events), <see langword="null"/> leaves
    /// the decision to the tracking consent feature (the CookiePolicy middleware with <c>CheckConsentNeeded</c>), and
    /// without that feature the request is tracked. It may be called more than once per request and must be quick.
    /// When it throws, the failure is logged and it counts as having answered <see langword="null"/>.
    /// The default value is <see langword="null"/>.
    /// </summary>
    public Func<HttpContext, bool?>? ConsentResolver { get; set; }

    /// <summary>
    /// Limited Data Use for every event that does not set its own <see cref="ConversionEvent.DataProcessingOptions"/>:
    /// server events carry <c>data_processing_options</c>, and the Pixel is told the same.
    /// </summary>
    public LimitedDataUseOptions LimitedDataUse { get; set; } = new();

    /// <summary>
    /// Where the snippet asks for the visitor's IP address as the browser reaches the site, to keep it in the
    /// <c>_fbi</c> cookie that the server then prefers (an IPv6 address first, as Meta's Parameter Builder does): a URL on
    /// a dual-stack or IPv6-only host of the site, such as <c>https://ipv6.example.com/_capi/ip</c>, served there by
    /// <c>app.MapMetaConversions()</c>, or a path on the page's own host. Asked only with tracking consent, at most once
    /// a day per visitor. The default value is <see langword="null"/>: the snippet asks nothing, and events carry the
    /// request's address (an <c>_fbi</c> cookie that another script set is still read).
    /// </summary>
    public string? ClientIpEndpoint { get; set; }

    /// <summary>
    /// More query parameter names to remove from the URLs events carry (<c>event_source_url</c>, <c>referrer_url</c>),
    /// such as <c>customer</c> or <c>voucher_holder</c>, compared without case, <c>_</c>, <c>-</c> and <c>.</c>. They add
    /// to the built-in rules, which always apply: parameters named as a user field (<c>email</c>, <c>phone</c>,
    /// <c>first_name</c>, <c>em</c>, <c>zip</c>…) and values that look like an email address or a formatted phone
    /// number. The default value is an empty list.
    /// </summary>
    public IList<string> PersonalDataQueryParameters { get; set; } = [];

    /// <summary>The URL rules built from <see cref="PersonalDataQueryParameters"/> on first use.</summary>
    /// <remarks>A method, as the configuration-binding generator binds every property it can reach, and this is no setting.</remarks>
    internal Events.PersonalDataInUrls GetPersonalDataInUrls() =>
        _personalDataInUrls ??= PersonalDataQueryParameters is { Count: > 0 } names ? new Events.PersonalDataInUrls(names) : Events.PersonalDataInUrls.Default;

    private Events.PersonalDataInUrls? _personalDataInUrls;

    /// <summary>
    /// Parts of a <c>User-Agent</c> that mark a crawler, matched case-insensitively anywhere in the header. Crawlers get no
    /// cookies and report no events. Setting the list replaces the built-in one; an empty list turns the check off.
    /// The default value is <see langword="null"/>: <see cref="DefaultCrawlerUserAgents"/>.
    /// </summary>
    public IList<string>? CrawlerUserAgents { get; set; }

    /// <summary>
    /// The built-in crawler list: Meta's own link-preview and catalogue crawlers (<c>facebookexternalhit</c>,
    /// <c>meta-externalagent</c>, <c>Facebot</c>, <c>facebookcatalog</c>), the search engines and link previews most
    /// sites see (Google, Bing, DuckDuckGo, Yandex, Baidu, Apple, Twitter/X, LinkedIn, Slack, Discord, WhatsApp,
    /// Telegram, Pinterest), AI crawlers, and the generic <c>bot/</c>, <c>spider</c> and <c>crawler</c>. People browsing
    /// inside Facebook's or Instagram's app are not crawlers (<c>FBAN</c>, <c>Instagram</c>) and are tracked. Headless
    /// Chrome is not listed, so a site's own browser tests still see their events.
    /// </summary>
    public static IReadOnlyList<string> DefaultCrawlerUserAgents { get; } =
    [
        "facebookexternalhit", "meta-externalagent", "meta-externalfetcher", "Facebot", "facebookcatalog",
        "Googlebot", "Google-InspectionTool", "AdsBot-Google", "Mediapartners-Google", "Storebot-Google", "bingbot",
        "DuckDuckBot", "YandexBot", "Baiduspider", "Applebot", "Twitterbot", "LinkedInBot", "Slackbot", "Discordbot",
        "WhatsApp", "TelegramBot", "Pinterestbot", "GPTBot", "ClaudeBot", "CCBot", "PerplexityBot",
        "bot/", "spider", "crawler",
    ];
}

/// <summary>
/// Limited Data Use (<c>data_processing_options: ["LDU"]</c>) for all events, the way Meta's US state privacy terms
/// describe it. Bound from <c>MetaConversions:LimitedDataUse</c>.
/// </summary>
public sealed class LimitedDataUseOptions
{
    /// <summary>Whether events carry Limited Data Use. The default value is <see langword="false"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// <c>data_processing_options_country</c>: 1 for the United States, or 0 to let Meta geolocate the visitor.
    /// The default value is 0.
    /// </summary>
    public int Country { get; set; }

    /// <summary>
    /// <c>data_processing_options_state</c>: Meta's state code (1000 for California), or 0 to let Meta geolocate the
    /// visitor. The default value is 0.
    /// </summary>
    public int State { get; set; }

    internal DataProcessingOptions? ToDataProcessingOptions() =>
        Enabled ? DataProcessingOptions.LimitedDataUse(Country, State) : null;
}

/// <summary>The default values of <see cref="MetaConversionsOptions"/>, in one place.</summary>
internal static class MetaConversionsDefaults
{
    public const string GraphApiBaseUrl = "https://graph.facebook.com";
    public const string GraphApiVersion = "v24.0";
    public const int BatchSize = 1000;
    public const int MaxBatchSize = 1000;
    public const int QueueCapacity = 10_000;
    public const int MaxRetryAttempts = 4;
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan RetryBaseDelay = TimeSpan.FromSeconds(1);
    public const string OutboxProvider = "memory";
    public const string OutboxRedisKeyPrefix = "capi:outbox";
    public static readonly TimeSpan OutboxLeaseTimeout = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan OutboxEnqueueBudget = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan IdentityLifetime = TimeSpan.FromDays(3);
    public static readonly TimeSpan MinIdentityLifetime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxIdentityLifetime = TimeSpan.FromDays(7);
    public const int IdentityCapacity = 100_000;
    public const int MaxIdentityCapacity = 10_000_000;
    public static readonly TimeSpan FollowUpWindow = TimeSpan.FromDays(7);
    public static readonly TimeSpan MinFollowUpWindow = TimeSpan.FromHours(1);
    public const int FollowUpCapacity = 10_000;
}
