using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CapiMiddleware.Dispatch;

namespace CapiMiddleware.DatasetQuality;

/// <summary>Why a fetch failed, by what to do about it.</summary>
internal enum FetchFailure
{
    /// <summary>It worked.</summary>
    None,

    /// <summary>Network error, time-out, HTTP 5xx, Graph's temporary codes: try again soon.</summary>
    Transient,

    /// <summary>Graph's throttling codes (4, 17, 32, 613, 80000-80014) or HTTP 429: back off harder.</summary>
    Throttled,

    /// <summary>Code 190: the token is expired, invalid, or not opted in for this API.</summary>
    TokenRejected,

    /// <summary>Codes 10 and 200-299, or no access to the dataset (100 with subcode 33).</summary>
    PermissionDenied,

    /// <summary>A 200 that is not the documented answer.</summary>
    Unreadable,

    /// <summary>Any other refusal.</summary>
    Rejected,
}

/// <summary>One fetch's outcome: the answer, or why not in one line that never holds the token.</summary>
internal sealed record FetchResult(DatasetQualityResponse? Report, FetchFailure Failure, string? Problem, TimeSpan? RetryAfter = null)
{
    public static FetchResult Fetched(DatasetQualityResponse report) => new(report, FetchFailure.None, null);
}

/// <summary>
/// Reads one dataset's figures: <c>GET {base}/{version}/dataset_quality?dataset_id=...&amp;fields=web{...}</c>, every
/// documented metric asked for, through the library's Graph <see cref="HttpClient"/>. The token goes in the
/// <c>Authorization</c> header, never in the URL, which <see cref="IHttpClientFactory"/>'s log lines show.
/// </summary>
internal sealed class DatasetQualityClient(IHttpClientFactory httpClientFactory, TimeProvider time)
{
    /// <summary>Every field the Dataset Quality API page documents, nested as Graph's field expansion writes it.</summary>
    public const string Fields =
        "web{event_name," +
        "event_match_quality{composite_score," +
        "match_key_feedback{identifier,coverage{percentage},potential_aly_acr_increase{percentage,description}}," +
        "diagnostics{name,description,solution,percentage,affected_event_count,total_event_count}}," +
        "event_potential_aly_acr_increase{percentage,description}," +
        "acr{percentage,description}," +
        "event_coverage{percentage,goal_percentage,description,potential_aly_acr_increase{percentage,description}}," +
        "dedupe_key_feedback{dedupe_key,browser_events_with_dedupe_key{percentage,description}," +
        "server_events_with_dedupe_key{percentage,description},overall_browser_coverage_from_dedupe_key{percentage,description}}," +
        "data_freshness{upload_frequency,description}}";

    /// <summary>The address asked, without any secret: the base URL, version, dataset, fields and agent name.</summary>
    public static string Url(MetaConversionsOptions options, string pixelId, string? appSecretProof)
    {
        var url = new StringBuilder(options.GraphApiBaseUrl.TrimEnd('/'))
            .Append('/').Append(options.GraphApiVersion).Append("/dataset_quality?dataset_id=").Append(Uri.EscapeDataString(pixelId))
            .Append("&fields=").Append(Uri.EscapeDataString(Fields));
        if (options.DatasetQuality.AgentName is { Length: > 0 } agent)
        {
            url.Append("&agent_name=").Append(Uri.EscapeDataString(agent));
        }

        if (appSecretProof is not null)
        {
            // An HMAC of the token: useless without it, and Graph reads it only from the query on a GET.
            url.Append("&appsecret_proof=").Append(appSecretProof);
        }

        return url.ToString();
    }

    public async Task<FetchResult> FetchAsync(MetaConversionsOptions options, string pixelId, string accessToken, string? appSecret, CancellationToken cancellationToken)
    {
        var proof = string.IsNullOrEmpty(appSecret) ? null : GraphRequestBody.AppSecretProof(accessToken, appSecret);
        using var timeout = new CancellationTokenSource(DatasetQualityDefaults.FetchTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Url(options, pixelId, proof));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            request.Headers.Accept.ParseAdd("application/json");
            var client = httpClientFactory.CreateClient(GraphApiClient.HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            return Classify(response, body, pixelId, accessToken);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new FetchResult(null, FetchFailure.Transient,
                string.Create(CultureInfo.InvariantCulture, $"no answer within {DatasetQualityDefaults.FetchTimeout.TotalSeconds:0} s."));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return new FetchResult(null, FetchFailure.Transient, $"{ex.GetType().Name}: {Scrub(ex.Message, accessToken)}");
        }
    }

    private FetchResult Classify(HttpResponseMessage response, byte[] body, string pixelId, string accessToken)
    {
        var status = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.OK)
        {
            var report = GraphApiClient.TryParse(body, DatasetQualityJsonContext.Default.DatasetQualityResponse);
            return report?.Web is not null
                ? FetchResult.Fetched(report)
                : new FetchResult(null, FetchFailure.Unreadable, "HTTP 200 with a body that is not Meta's Dataset Quality answer (no \"web\" list).");
        }

        var error = GraphApiClient.TryParse(body, DatasetQualityJsonContext.Default.GraphErrorEnvelope)?.Error;
        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date is { } date ? date - time.GetUtcNow() : null)
            : null;
        var code = error?.Code;
        var kind = code switch
        {
            4 or 17 or 32 or 613 or (>= 80000 and <= 80014) => FetchFailure.Throttled,
            _ when response.StatusCode == HttpStatusCode.TooManyRequests => FetchFailure.Throttled,
            190 => FetchFailure.TokenRejected,
            10 or (>= 200 and <= 299) => FetchFailure.PermissionDenied,
            100 when error?.Subcode == 33 => FetchFailure.PermissionDenied,
            _ when status >= 500 || error?.IsTransient == true || code is 1 or 2 => FetchFailure.Transient,
            _ => FetchFailure.Rejected,
        };

        var graph = error is null
            ? $"HTTP {status} with a body that is not a Graph error"
            : $"HTTP {status}: {Scrub(error.Message, accessToken)} (code {code?.ToString(CultureInfo.InvariantCulture) ?? "-"}, subcode {error.Subcode?.ToString(CultureInfo.InvariantCulture) ?? "-"}, fbtrace_id {error.FbTraceId ?? "-"})";
        var problem = kind switch
        {
            FetchFailure.Throttled => $"Meta throttles this app's Marketing API calls ({graph}); backing off.",
            FetchFailure.TokenRejected => $"Meta refuses the access token ({graph}). An Events Manager token generated before July 2025 needs the advertiser's opt-in in Events Manager; a client system user token cannot read Dataset Quality.",
            FetchFailure.PermissionDenied => $"{MissingPermission(error?.Message, pixelId)} ({graph})",
            _ => graph + ".",
        };
        return new FetchResult(null, kind, problem, retryAfter);
    }

    /// <summary>Which permission is missing: the one Graph's message names, else everything the API needs.</summary>
    private static string MissingPermission(string? message, string pixelId)
    {
        string[] known = ["ads_read", "ads_management", "business_management"];
        var named = known.Where(p => message?.Contains(p, StringComparison.OrdinalIgnoreCase) == true).ToArray();
        var what = named.Length > 0
            ? $"The token lacks the permission {string.Join(" or ", named)}"
            : "The token lacks a permission";
        return what + $": the Dataset Quality API needs the app permissions ads_read and ads_management (or business_management), and for the token's user at least 'Use events dataset' access to dataset {pixelId}. Set {MetaConversionsOptions.SectionName}:DatasetQuality:AccessToken to a token that has them.";
    }

    /// <summary>Graph does not echo tokens, but a message that ever did must not carry it into the log.</summary>
    private static string Scrub(string? message, string accessToken) =>
        string.IsNullOrEmpty(message) ? "no message" : message.Replace(accessToken, "[token]", StringComparison.Ordinal);
}
