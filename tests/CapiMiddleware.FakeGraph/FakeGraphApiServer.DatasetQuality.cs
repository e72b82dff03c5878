using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.FakeGraph;

/// <summary>
/// <c>GET /{version}/dataset_quality</c>, the Dataset Quality API, answered as Meta's page documents it: the
/// <c>{"web":[...]}</c> set per dataset with <see cref="SetDatasetQuality"/> (<c>{"web":[]}</c> for any other), each
/// row cut down to the fields the request's <c>fields=web{...}</c> names, as Graph's field expansion does. Scripted
/// answers (<see cref="EnqueueDatasetQualityResponse"/>) come first, after <see cref="Down"/> and
/// <see cref="TokenRevoked"/>. The token must come in the <c>Authorization</c> header: <see cref="FakeGraphApiOptions.DatasetQualityAccessToken"/>
/// when set, else the dataset's or the shared one.
/// </summary>
public sealed partial class FakeGraphApiServer
{
    private const string DatasetQualityPathEnd = "/dataset_quality";

    private readonly ConcurrentDictionary<string, string> _datasetQuality = new(StringComparer.Ordinal);
    private readonly Queue<FakeResponse> _datasetQualityScripted = new();

    /// <summary>The requests to <c>/{version}/dataset_quality</c> since start or <see cref="Reset"/>, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> DatasetQualityRequests => Requests.Where(r => IsDatasetQuality(r.Path)).ToArray();

    /// <summary>
    /// What the Dataset Quality API answers for <paramref name="datasetId"/> from now on: Meta's JSON with every field
    /// (<see cref="DatasetQualityExamples"/>), or an answer of the test's own; it must have a <c>web</c> array.
    /// </summary>
    public void SetDatasetQuality(string datasetId, string json)
    {
        ArgumentException.ThrowIfNullOrEmpty(datasetId);
        if (JsonNode.Parse(json) is not JsonObject { } root || root["web"] is not JsonArray)
        {
            throw new ArgumentException("Fake Graph API: a Dataset Quality answer is an object with a \"web\" array, as Meta documents it.", nameof(json));
        }

        _datasetQuality[datasetId] = json;
    }

    /// <summary>Queues an answer for the next Dataset Quality request (an error, a hang...), before its validation.</summary>
    public void EnqueueDatasetQualityResponse(FakeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        RequireRecording(nameof(EnqueueDatasetQualityResponse));
        lock (_gate)
        {
            _datasetQualityScripted.Enqueue(response);
        }
    }

    private static bool IsDatasetQuality(string path)
    {
        var trimmed = path.TrimEnd('/');
        return trimmed.EndsWith(DatasetQualityPathEnd, StringComparison.Ordinal) && trimmed.Count(c => c == '/') == 2;
    }

    private async Task AnswerDatasetQualityAsync(HttpContext context, RecordedRequest request, long number, CancellationToken aborted)
    {
        FakeResponse? scripted = GraphState(number);
        if (scripted is null)
        {
            lock (_gate)
            {
                _datasetQualityScripted.TryDequeue(out scripted);
            }
        }

        if (scripted is not null)
        {
            await AnswerScriptedAsync(context, request, 0, scripted, aborted).ConfigureAwait(false);
            return;
        }

        await DelayAsync(_options.ResponseDelay, aborted).ConfigureAwait(false);
        var query = context.Request.Query;
        var datasetId = query["dataset_id"].ToString();
        if (ValidateDatasetQuality(request, datasetId, query["fields"].ToString()) is { } error)
        {
            await WriteAsync(context, request, null, error.HttpStatus, error.ToJson(GraphApiError.NewFbtraceId()), JsonContentType, accept: false)
                .ConfigureAwait(false);
            return;
        }

        var body = _datasetQuality.TryGetValue(datasetId, out var json) ? json : "{\"web\":[]}";
        await WriteAsync(context, request, null, 200, Select(body, query["fields"].ToString()), JsonContentType, accept: false).ConfigureAwait(false);
    }

    private GraphApiError? ValidateDatasetQuality(RecordedRequest request, string datasetId, string fields)
    {
        if (request.AccessTokenInUrl)
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, null,
                "Fake Graph API: the access token must not be sent in the URL, where proxies and logs keep it. Send it in the Authorization header.");
        }

        var version = request.Path.Trim('/').Split('/')[0];
        if (!IsExpectedVersion(version))
        {
            return new GraphApiError(400, GraphErrorCodes.UnknownPath, null, $"Unknown path components: /{version} (the fake expects {_options.ApiVersion ?? "vNN.N"})");
        }

        if (!HttpMethods.IsGet(request.Method))
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, null,
                $"Unsupported {request.Method.ToLowerInvariant()} request. Only GET is supported on /dataset_quality.");
        }

        if (datasetId.Length == 0)
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, null, "(#100) The parameter dataset_id is required");
        }

        if (!datasetId.All(char.IsAsciiDigit))
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, GraphErrorCodes.ObjectDoesNotExistSubcode,
                $"Unsupported get request. Object with ID '{datasetId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.");
        }

        if (!fields.StartsWith("web", StringComparison.Ordinal))
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, null, "(#100) The web field is required: fields=web{...}");
        }

        var header = request.Headers.TryGetValue("Authorization", out var authorization) && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim()
            : null;
        if (header is null)
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidAccessToken, null, "An access token is required to request this resource.");
        }

        var expected = _options.DatasetQualityAccessToken
            ?? (_options.PixelAccessTokens.TryGetValue(datasetId, out var own) ? own : _options.ExpectedAccessToken);
        return header == expected
            ? null
            : new GraphApiError(400, GraphErrorCodes.InvalidAccessToken, null, "Invalid OAuth access token - Cannot parse access token");
    }

    /// <summary>Each row of <paramref name="body"/> with only the top-level fields named inside <c>web{...}</c>.</summary>
    private static string Select(string body, string fields)
    {
        var open = fields.IndexOf('{', StringComparison.Ordinal);
        if (open < 0 || !fields.EndsWith('}'))
        {
            return body; // "web" alone: every field
        }

        var wanted = TopLevelNames(fields[(open + 1)..^1]);
        var root = JsonNode.Parse(body)!.AsObject();
        foreach (var row in root["web"]!.AsArray().OfType<JsonObject>())
        {
            foreach (var name in row.Select(p => p.Key).Where(k => !wanted.Contains(k)).ToArray())
            {
                row.Remove(name);
            }
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>The names at the outer level of a Graph field list: <c>a,b{c,d},e</c> gives a, b and e.</summary>
    private static HashSet<string> TopLevelNames(string list)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var depth = 0;
        var start = 0;
        for (var i = 0; i <= list.Length; i++)
        {
            var c = i < list.Length ? list[i] : ',';
            if (c == '{')
            {
                if (depth++ == 0)
                {
                    names.Add(list[start..i].Trim());
                }
            }
            else if (c == '}')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                if (i > start && list[i - 1] != '}')
                {
                    names.Add(list[start..i].Trim());
                }

                start = i + 1;
            }
        }

        names.Remove("");
        return names;
    }
}
