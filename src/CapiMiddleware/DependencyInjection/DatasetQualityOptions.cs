namespace CapiMiddleware;

/// <summary>
/// Meta's own view of each pixel's data, fetched on a schedule from the Graph API's Dataset Quality API
/// (<c>GET /{version}/dataset_quality</c>) and shown beside the library's figures: in the inspector and its
/// <c>summary.json</c>, as gauges on the <c>CapiMiddleware</c> meter, and in the health check when floors are set.
/// Section <c>MetaConversions:DatasetQuality</c>.
/// </summary>
/// <remarks>
/// The token needs more than sending events does: the app permissions <c>ads_read</c> and <c>ads_management</c> (or
/// <c>business_management</c>), and for its user or system user at least "Partial access: Use events dataset" on each
/// dataset. Tokens generated in Events Manager before July 2025 work only once the advertiser has opted in there; the
/// "client system user access token" of partner onboarding does not work at all (Meta's Dataset Quality API page).
/// </remarks>
public sealed class DatasetQualityOptions
{
    /// <summary>Whether Meta's Dataset Quality figures are fetched. The default value is <see langword="false"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// How often each pixel's figures are fetched, from 5 minutes to 1 day. Meta computes match quality in real time
    /// and coverage as a 7-day average, so more often tells little more and spends the app's Marketing API rate limit.
    /// After a failure the next attempt comes sooner (from 1 minute, 5 when Meta throttles, doubling each time) but
    /// never later than 4 intervals. The default value is 1 hour.
    /// </summary>
    public TimeSpan Interval { get; set; } = DatasetQualityDefaults.Interval;

    /// <summary>
    /// The token to read the figures with, when the one that sends events lacks the permissions (see the remarks).
    /// The default value is <see langword="null"/>: each pixel's own token (<see cref="MetaPixelOptions.AccessToken"/>,
    /// else <see cref="MetaConversionsOptions.AccessToken"/>). Sent in the <c>Authorization</c> header only; never logged.
    /// </summary>
    public string? AccessToken { get; set; }

    /// <summary>
    /// The secret of the app that issued <see cref="AccessToken"/>, for <c>appsecret_proof</c> when that app requires it.
    /// The default value is <see langword="null"/>: none with <see cref="AccessToken"/>; with a pixel's own token, that
    /// pixel's app secret as for sending.
    /// </summary>
    public string? AppSecret { get; set; }

    /// <summary>
    /// Meta's <c>agent_name</c>: only events sent with this normalized, lowercase <c>partner_agent</c> (such as
    /// <c>partner_name</c> for <c>partner_name_1_2</c>) count. For platforms that send on behalf of clients; most sites
    /// leave it out. The default value is <see langword="null"/>: every event of the dataset.
    /// </summary>
    public string? AgentName { get; set; }

    /// <summary>
    /// The lowest Event Match Quality (0 to 10) Meta may report for an event before the health check says Degraded.
    /// The default value is <see langword="null"/>: no floor.
    /// </summary>
    public double? MinimumMatchQuality { get; set; }

    /// <summary>
    /// The lowest event coverage, in percent (0 to 100), Meta may report for an event before the health check says
    /// Degraded: the share of the Pixel's events that server events cover with shared deduplication keys. Meta's goal in
    /// its examples is 75. The default value is <see langword="null"/>: no floor.
    /// </summary>
    public double? MinimumEventCoverage { get; set; }

    /// <summary>
    /// The event names the floors apply to, such as <c>Purchase</c> and <c>Lead</c>. The default value is empty: every
    /// event Meta reports for the pixel, including those only the Pixel sends (whose coverage is low by nature).
    /// </summary>
    public IList<string> EventNames { get; set; } = new List<string>();
}

/// <summary>The defaults and bounds of <see cref="DatasetQualityOptions"/>, in one place.</summary>
internal static class DatasetQualityDefaults
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    public static readonly TimeSpan MinInterval = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(1);

    /// <summary>How long one fetch may take.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The first retry's delay after a failure, and after Meta throttled; each next one doubles.</summary>
    public static readonly TimeSpan RetryBaseDelay = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan ThrottledBaseDelay = TimeSpan.FromMinutes(5);

    /// <summary>The longest wait after failures, in intervals.</summary>
    public const int MaxBackoffIntervals = 4;

    /// <summary>With floors set, figures older than this many intervals make the health check Degraded.</summary>
    public const int StaleAfterIntervals = 3;

    private const string Key = MetaConversionsOptions.SectionName + ":DatasetQuality:";

    /// <summary>Checks the settings, naming the key of each bad one; never repeats a token or secret.</summary>
    public static void Validate(DatasetQualityOptions? options, List<string> failures)
    {
        if (options is null)
        {
            failures.Add($"{MetaConversionsOptions.SectionName}:DatasetQuality must not be null.");
            return;
        }

        if (options.Interval < MinInterval || options.Interval > MaxInterval)
        {
            failures.Add($"{Key}Interval must be from 00:05:00 to 1.00:00:00 (Meta's figures are 7-day averages or real-time scores; fetching more often spends the app's rate limit); got {options.Interval}.");
        }

        if (options.AccessToken is { } token && (token.Length == 0 || token.Any(char.IsWhiteSpace)))
        {
            failures.Add($"{Key}AccessToken is empty or contains white space; copy the token again, or leave the setting out to use each pixel's token.");
        }

        if (!string.IsNullOrEmpty(options.AppSecret) && string.IsNullOrEmpty(options.AccessToken))
        {
            failures.Add($"{Key}AppSecret is set but {Key}AccessToken is not: a pixel's own token is proved with that pixel's app secret.");
        }

        if (options.AgentName is { } agent
            && (agent.Length is 0 or > 100 || agent.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '.'))))
        {
            failures.Add($"{Key}AgentName must be the normalized partner_agent, 1 to 100 lowercase letters, digits, '_', '-' or '.', such as partner_name; got '{(agent.Length <= 40 ? agent : agent[..40] + "…")}'.");
        }

        if (options.MinimumMatchQuality is { } quality && (!double.IsFinite(quality) || quality is < 0 or > 10))
        {
            failures.Add($"{Key}MinimumMatchQuality must be from 0 to 10 (Meta's Event Match Quality score), such as 6; got {quality}.");
        }

        if (options.MinimumEventCoverage is { } coverage && (!double.IsFinite(coverage) || coverage is < 0 or > 100))
        {
            failures.Add($"{Key}MinimumEventCoverage must be a percentage from 0 to 100, such as 75 (Meta's goal); got {coverage}.");
        }

        if (options.EventNames is null)
        {
            failures.Add($"{Key}EventNames must not be null; leave it out for every event.");
        }
        else if (options.EventNames.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{Key}EventNames must hold event names such as Purchase, none blank.");
        }
    }
}
