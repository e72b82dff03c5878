using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.FakeGraph;

/// <summary>
/// A fake Meta Graph API on loopback Kestrel: validates <c>POST /{version}/{pixelId}/events</c> like Meta, answers
/// <c>GET /{version}/dataset_quality</c> as Meta documents it (FakeGraphApiServer.DatasetQuality.cs),
/// records every request, and answers scripted faults on demand; or, started with
/// <see cref="FakeGraphApiOptions.CountOnly"/> for benchmarks, only counts the events it accepts. Either way it can be
/// <see cref="Down"/> or refuse the token (<see cref="TokenRevoked"/>).
/// </summary>
public sealed partial class FakeGraphApiServer : IAsyncDisposable
{
    private const string JsonContentType = "application/json; charset=UTF-8";

    private static readonly byte[] EventStart = "{\"event_name\":"u8.ToArray();

    private static readonly FakeResponse Unavailable =
        FakeResponse.GraphError(2, isTransient: true, httpStatus: 503, message: "Service temporarily unavailable");

    private static readonly FakeResponse Revoked = FakeResponse.GraphError(GraphErrorCodes.InvalidAccessToken,
        message: "Error validating access token: The session has been invalidated because the user changed their password.");

    private readonly WebApplication _app;
    private readonly FakeGraphApiOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<JsonElement> _acceptedEvents = [];
    private readonly Queue<FakeResponse> _scripted = new();
    private readonly List<Waiter> _waiters = [];
    private volatile Func<RecordedRequest, FakeResponse?>? _responder;
    private volatile bool _down;
    private volatile bool _tokenRevoked;
    private long _requestCount;
    private long _eventsReceived;
    private long _failedRequests;
    private int _disposed;

    private FakeGraphApiServer(WebApplication app, FakeGraphApiOptions options)
    {
        _app = app;
        _options = options;
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234</c> (no trailing path).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The options the server was started with.</summary>
    public FakeGraphApiOptions Options => _options;

    /// <summary>The requests received since start, answered or not; counted in either mode.</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <summary>The events of the requests answered as delivered since start; counted in either mode.</summary>
    public long EventsReceived => Interlocked.Read(ref _eventsReceived);

    /// <summary>The requests answered with a failure, or left hanging, because the server was <see cref="Down"/>.</summary>
    public long FailedRequests => Interlocked.Read(ref _failedRequests);

    /// <summary>
    /// While set, Graph is in an outage: two requests in three get a 503 with a transient Graph error (code 2), the
    /// third the same after <see cref="HangTime"/> (longer than the library's attempt time-out), unless the client gives
    /// up first. It comes before any scripted answer and before validation. The default value is <see langword="false"/>.
    /// </summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    /// <summary>How long a request left unanswered during an outage hangs. The default value is 12 seconds.</summary>
    public TimeSpan HangTime { get; set; } = TimeSpan.FromSeconds(12);

    /// <summary>
    /// While set (and not <see cref="Down"/>), every request is refused as Meta refuses a revoked token: 400 with Graph
    /// code 190, whatever token it carries. The default value is <see langword="false"/>.
    /// </summary>
    public bool TokenRevoked
    {
        get => _tokenRevoked;
        set => _tokenRevoked = value;
    }

    /// <summary>Every request since start or <see cref="Reset"/>, valid or not, in arrival order (a snapshot).</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            RequireRecording(nameof(Requests));
            lock (_gate)
            {
                return _requests.ToArray();
            }
        }
    }

    /// <summary>The events of requests answered 200 as delivered, in arrival order (a snapshot).</summary>
    public IReadOnlyList<JsonElement> AcceptedEvents
    {
        get
        {
            RequireRecording(nameof(AcceptedEvents));
            lock (_gate)
            {
                return _acceptedEvents.ToArray();
            }
        }
    }

    /// <summary>
    /// Consulted for each request the queue of <see cref="EnqueueResponse"/> does not answer; a non-null result
    /// is answered instead of validating. <see langword="null"/> by default.
    /// </summary>
    public Func<RecordedRequest, FakeResponse?>? Responder
    {
        get => _responder;
        set
        {
            RequireRecording(nameof(Responder));
            _responder = value;
        }
    }

    /// <summary>Starts a server on a free loopback port.</summary>
    public static async Task<FakeGraphApiServer> StartAsync(FakeGraphApiOptions? options = null)
    {
        var snapshot = new FakeGraphApiOptions();
        if (options is not null)
        {
            snapshot.ExpectedAccessToken = options.ExpectedAccessToken;
            snapshot.ApiVersion = options.ApiVersion;
            snapshot.ResponseDelay = options.ResponseDelay;
            snapshot.PixelAccessTokens = new Dictionary<string, string>(options.PixelAccessTokens);
            snapshot.TimeProvider = options.TimeProvider ?? TimeProvider.System;
            snapshot.CountOnly = options.CountOnly;
            snapshot.Tally = options.Tally;
            snapshot.DatasetQualityAccessToken = options.DatasetQualityAccessToken;
        }

        if (snapshot.Tally is not null && !snapshot.CountOnly)
        {
            throw new ArgumentException("Fake Graph API: a Tally counts the events of a CountOnly server; set CountOnly too, "
                + "or read the recorded events of a validating one.", nameof(options));
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        // Hung requests are cut by DisposeAsync; this only bounds a handler that ignores cancellation.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null); // Meta's limit is on events, checked by validation

        var app = builder.Build();
        var server = new FakeGraphApiServer(app, snapshot);
        app.Run(server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        server.BaseUrl = new Uri(address);
        return server;
    }

    /// <summary>Queues an answer for the next request that has none queued before it; used before validation.</summary>
    public void EnqueueResponse(FakeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        RequireRecording(nameof(EnqueueResponse));
        lock (_gate)
        {
            _scripted.Enqueue(response);
        }
    }

    /// <summary>
    /// Completes when at least <paramref name="count"/> events have been accepted, with all accepted events;
    /// throws <see cref="TimeoutException"/> saying how many arrived otherwise.
    /// </summary>
    public Task<IReadOnlyList<JsonElement>> WaitForEventsAsync(int count, TimeSpan timeout) =>
        WaitAsync(count, timeout, forEvents: true, () => _acceptedEvents.ToArray());

    /// <summary>
    /// Completes when at least <paramref name="count"/> requests have arrived (answered or not), with all of them;
    /// throws <see cref="TimeoutException"/> saying how many arrived otherwise.
    /// </summary>
    public Task<IReadOnlyList<RecordedRequest>> WaitForRequestsAsync(int count, TimeSpan timeout) =>
        WaitAsync(count, timeout, forEvents: false, () => _requests.ToArray());

    /// <summary>Forgets recorded requests, accepted events, queued answers and the <see cref="Responder"/>.</summary>
    public void Reset()
    {
        RequireRecording(nameof(Reset));
        lock (_gate)
        {
            _requests.Clear();
            _acceptedEvents.Clear();
            _scripted.Clear();
            _datasetQualityScripted.Clear();
            _responder = null;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task<IReadOnlyList<T>> WaitAsync<T>(int count, TimeSpan timeout, bool forEvents, Func<T[]> snapshot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        RequireRecording(forEvents ? nameof(WaitForEventsAsync) : nameof(WaitForRequestsAsync));
        Waiter waiter;
        lock (_gate)
        {
            if (CurrentCount(forEvents) >= count)
            {
                return snapshot();
            }

            waiter = new Waiter(count, forEvents);
            _waiters.Add(waiter);
        }

        try
        {
            // Real time on purpose: a frozen FakeTimeProvider must not turn a wait into a hang.
            await waiter.Completion.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
                if (CurrentCount(forEvents) < count)
                {
                    throw new TimeoutException(DescribeTimeout(count, timeout, forEvents));
                }
            }
        }

        lock (_gate)
        {
            return snapshot();
        }
    }

    private int CurrentCount(bool forEvents) => forEvents ? _acceptedEvents.Count : _requests.Count;

    private string DescribeTimeout(int count, TimeSpan timeout, bool forEvents)
    {
        var what = forEvents ? "accepted events" : "requests";
        var arrived = CurrentCount(forEvents);
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"Fake Graph API: expected at least {count} {what} within {timeout.TotalSeconds:0.###} s, but {arrived} arrived");
        text.Append(CultureInfo.InvariantCulture, $" ({_requests.Count} requests recorded");
        if (_requests.Count > 0)
        {
            text.Append("; answers: ")
                .AppendJoin(", ", _requests.Select(r => r.StatusCode?.ToString(CultureInfo.InvariantCulture) ?? "none"));
        }

        text.Append(").");
        var lastRejected = _requests.LastOrDefault(r => r.StatusCode is not null and not 200);
        if (lastRejected?.ResponseBody is { Length: > 0 } body)
        {
            text.Append(" Last rejection: ").Append(body.Length <= 600 ? body : body[..600] + "...");
        }

        return text.ToString();
    }

    private void RequireRecording(string member)
    {
        if (_options.CountOnly)
        {
            throw new InvalidOperationException($"Fake Graph API: {member} needs the requests recorded, but this server was "
                + "started with CountOnly, which keeps nothing; read RequestCount and EventsReceived, or start it without CountOnly.");
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var number = Interlocked.Increment(ref _requestCount);
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            if (_options.CountOnly)
            {
                await CountAsync(context, number, aborted.Token).ConfigureAwait(false);
                return;
            }

            var request = await RecordAsync(context).ConfigureAwait(false);
            if (IsDatasetQuality(request.Path))
            {
                await AnswerDatasetQualityAsync(context, request, number, aborted.Token).ConfigureAwait(false);
                return;
            }

            var scripted = GraphState(number) ?? NextScriptedResponse(request);
            if (scripted is not null)
            {
                await AnswerScriptedAsync(context, request, request.Events.Count, scripted, aborted.Token).ConfigureAwait(false);
            }
            else
            {
                await AnswerValidatedAsync(context, request, aborted.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client gave up or the server is stopping: drop the connection rather than answer.
            context.Abort();
        }
    }

    /// <summary>The answer an outage or a revoked token gives request number <paramref name="number"/>; null when Graph is well.</summary>
    private FakeResponse? GraphState(long number)
    {
        if (_down)
        {
            Interlocked.Increment(ref _failedRequests);
            return number % 3 == 0 ? FakeResponse.Delayed(HangTime, Unavailable) : Unavailable;
        }

        return _tokenRevoked ? Revoked : null;
    }

    /// <summary>
    /// The <see cref="FakeGraphApiOptions.CountOnly"/> answer: success with the events counted (or tallied), after the
    /// response delay; or what an outage or a revoked token answers, leaving the body unread.
    /// </summary>
    private async Task CountAsync(HttpContext context, long number, CancellationToken aborted)
    {
        if (GraphState(number) is { } failure)
        {
            await AnswerScriptedAsync(context, null, 0, failure, aborted).ConfigureAwait(false);
            return;
        }

        var count = _options.Tally is { } tally
            ? await TallyAsync(context.Request, tally, aborted).ConfigureAwait(false)
            : await CountEventsAsync(context.Request, aborted).ConfigureAwait(false);
        await DelayAsync(_options.ResponseDelay, aborted).ConfigureAwait(false);
        Interlocked.Add(ref _eventsReceived, count);
        context.Response.ContentType = JsonContentType;
        await context.Response.WriteAsync($$"""{"events_received":{{count}},"messages":[],"fbtrace_id":"count-only"}""", aborted)
            .ConfigureAwait(false);
    }

    /// <summary>Counts the events in a body as it streams through, keeping none of it.</summary>
    private static async Task<long> CountEventsAsync(HttpRequest request, CancellationToken aborted)
    {
        var reader = request.BodyReader;
        long count = 0;
        while (true)
        {
            var read = await reader.ReadAsync(aborted).ConfigureAwait(false);
            var buffer = read.Buffer;
            var consumed = CountEvents(buffer, ref count);
            if (read.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                return count;
            }

            reader.AdvanceTo(consumed, buffer.End);
        }
    }

    /// <summary>Counts the event starts in <paramref name="buffer"/>; returns where a start cut short by its end begins.</summary>
    private static SequencePosition CountEvents(ReadOnlySequence<byte> buffer, ref long count)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryAdvanceTo(EventStart[0], advancePastDelimiter: false))
        {
            if (reader.Remaining < EventStart.Length)
            {
                return reader.Position; // perhaps a start cut short: read it again with more bytes
            }

            if (reader.IsNext(EventStart, advancePast: true))
            {
                count++;
            }
            else
            {
                reader.Advance(1);
            }
        }

        return buffer.End;
    }

    /// <summary>Reads the whole body into a pooled buffer and tallies the numbered event IDs in it.</summary>
    private static async Task<long> TallyAsync(HttpRequest request, EventTally tally, CancellationToken aborted)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)(request.ContentLength ?? 4 * 1024 * 1024));
        try
        {
            var read = 0;
            int n;
            while ((n = await request.Body.ReadAsync(buffer.AsMemory(read), aborted).ConfigureAwait(false)) > 0)
            {
                read += n;
                if (read == buffer.Length)
                {
                    throw new InvalidOperationException("Fake Graph API: a request body larger than its Content-Length, "
                        + "or than 4 MB without one, cannot be tallied.");
                }
            }

            return tally.Add(buffer.AsSpan(0, read), tally.NotesSenders ? BearerToken(request) : null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string? BearerToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    private async Task<RecordedRequest> RecordAsync(HttpContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }

        JsonElement? json = null;
        IReadOnlyList<JsonElement> events = [];
        if (body.Length > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                json = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                // Recorded as raw text only; validation answers it with code 100.
            }
        }

        if (json is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("data", out var data)
            && data.ValueKind == JsonValueKind.Array)
        {
            events = data.EnumerateArray().ToArray();
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in context.Request.Headers)
        {
            headers[header.Key] = header.Value.ToString();
        }

        var path = context.Request.Path.Value ?? "/";
        var segments = path.Trim('/').Split('/');
        var shaped = segments.Length == 3 && segments[2] == "events";

        RecordedRequest request;
        lock (_gate)
        {
            request = new RecordedRequest
            {
                Sequence = _requests.Count,
                ReceivedAt = _options.TimeProvider.GetUtcNow(),
                Method = context.Request.Method,
                Path = path,
                Version = shaped ? segments[0] : null,
                PixelId = shaped ? segments[1] : null,
                QueryString = context.Request.QueryString.Value ?? string.Empty,
                Headers = headers,
                Body = body,
                Json = json,
                Events = events,
                AccessTokenInUrl = IsAccessTokenInUrl(context.Request),
            };
            _requests.Add(request);
            SignalWaiters();
        }

        return request;
    }

    private bool IsAccessTokenInUrl(HttpRequest request)
    {
        if (request.Query.ContainsKey("access_token"))
        {
            return true;
        }

        var token = _options.ExpectedAccessToken;
        if (string.IsNullOrEmpty(token))
        {
            return false;
        }

        var url = Uri.UnescapeDataString((request.Path.Value ?? string.Empty) + (request.QueryString.Value ?? string.Empty));
        return url.Contains(token, StringComparison.Ordinal);
    }

    private FakeResponse? NextScriptedResponse(RecordedRequest request)
    {
        lock (_gate)
        {
            if (_scripted.TryDequeue(out var queued))
            {
                return queued;
            }
        }

        var responder = _responder;
        if (responder is null)
        {
            return null;
        }

        try
        {
            return responder(request);
        }
        catch (Exception exception)
        {
            return FakeResponse.Status(500, $"Fake Graph API: the Responder threw {exception.GetType().Name}: {exception.Message}");
        }
    }

    /// <summary>Answers <paramref name="scripted"/>; <paramref name="request"/> is null on a count-only server.</summary>
    private async Task AnswerScriptedAsync(
        HttpContext context, RecordedRequest? request, int events, FakeResponse scripted, CancellationToken aborted)
    {
        await DelayAsync(_options.ResponseDelay + scripted.Delay, aborted).ConfigureAwait(false);
        switch (scripted.Kind)
        {
            case FakeResponseKind.ConnectionReset:
                request?.SetAnswer(null, null, scripted);
                context.Abort();
                return;

            case FakeResponseKind.Hang:
                request?.SetAnswer(null, null, scripted);
                await Task.Delay(Timeout.Infinite, aborted).ConfigureAwait(false);
                return;

            case FakeResponseKind.GraphError:
                await WriteAsync(context, request, scripted, scripted.StatusCode,
                    scripted.Error!.ToJson(GraphApiError.NewFbtraceId()), JsonContentType, accept: false).ConfigureAwait(false);
                return;

            case FakeResponseKind.MalformedJson:
                // The client cannot know whether Meta took these events, so they do not count as accepted.
                await WriteAsync(context, request, scripted, 200,
                    "{\"events_received\":" + events + ",\"messages\":[", JsonContentType, accept: false).ConfigureAwait(false);
                return;

            case FakeResponseKind.HtmlErrorPage:
                var reason = ReasonPhrases.GetReasonPhrase(scripted.StatusCode);
                var html = $"<!DOCTYPE html>\n<html><head><title>{scripted.StatusCode} {reason}</title></head>"
                    + $"<body><h1>{scripted.StatusCode} {reason}</h1><p>The server encountered a temporary error.</p></body></html>\n";
                await WriteAsync(context, request, scripted, scripted.StatusCode, html, "text/html; charset=utf-8", accept: false)
                    .ConfigureAwait(false);
                return;

            default:
                var success = scripted.StatusCode is >= 200 and < 300;
                var body = scripted.Body ?? (success ? SuccessBody(events) : string.Empty);
                await WriteAsync(context, request, scripted, scripted.StatusCode, body, JsonContentType, accept: success)
                    .ConfigureAwait(false);
                return;
        }
    }

    private async Task AnswerValidatedAsync(HttpContext context, RecordedRequest request, CancellationToken aborted)
    {
        // Decided on arrival, so event_time is judged against the time the request came in.
        var error = Validate(request);
        await DelayAsync(_options.ResponseDelay, aborted).ConfigureAwait(false);
        if (error is not null)
        {
            await WriteAsync(context, request, null, error.HttpStatus, error.ToJson(GraphApiError.NewFbtraceId()), JsonContentType,
                accept: false).ConfigureAwait(false);
        }
        else
        {
            await WriteAsync(context, request, null, 200, SuccessBody(request.Events.Count), JsonContentType, accept: true)
                .ConfigureAwait(false);
        }
    }

    private GraphApiError? Validate(RecordedRequest request)
    {
        if (request.AccessTokenInUrl)
        {
            const string message = "Fake Graph API: the access token must not be sent in the URL (query string or path), "
                + "where proxies and logs keep it. Send it in the Authorization header or the JSON body.";
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, null, message, UserTitle: "Access Token In URL",
                UserMessage: message);
        }

        if (request.Version is null || request.PixelId is null)
        {
            return new GraphApiError(400, GraphErrorCodes.UnknownPath, null, $"Unknown path components: {request.Path}");
        }

        if (!IsExpectedVersion(request.Version))
        {
            var expected = _options.ApiVersion ?? "vNN.N";
            return new GraphApiError(400, GraphErrorCodes.UnknownPath, null,
                $"Unknown path components: /{request.Version} (the fake expects {expected})");
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, null,
                $"Unsupported {request.Method.ToLowerInvariant()} request. Only POST is supported on /events.");
        }

        if (request.PixelId.Length == 0 || !request.PixelId.All(char.IsAsciiDigit))
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, GraphErrorCodes.ObjectDoesNotExistSubcode,
                $"Unsupported post request. Object with ID '{request.PixelId}' does not exist, cannot be loaded due to missing permissions, "
                + "or does not support this operation.");
        }

        if (ValidateAccessToken(request) is { } tokenError)
        {
            return tokenError;
        }

        if (request.Json is null)
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidParameter, null,
                "(#100) The request body is not valid JSON.");
        }

        return EventBatchValidator.Validate(request.Json, _options.TimeProvider.GetUtcNow());
    }

    private bool IsExpectedVersion(string version) =>
        _options.ApiVersion is { } expected ? version == expected : VersionPattern().IsMatch(version);

    private GraphApiError? ValidateAccessToken(RecordedRequest request)
    {
        string? headerToken = null;
        if (request.Headers.TryGetValue("Authorization", out var authorization))
        {
            headerToken = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                ? authorization["Bearer ".Length..].Trim()
                : string.Empty;
        }

        string? bodyToken = null;
        if (request.Json is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("access_token", out var token))
        {
            bodyToken = token.ValueKind == JsonValueKind.String ? token.GetString() : string.Empty;
        }

        if (headerToken is null && bodyToken is null)
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidAccessToken, null,
                "An access token is required to request this resource.");
        }

        var expected = request.PixelId is { } pixel && _options.PixelAccessTokens.TryGetValue(pixel, out var own)
            ? own
            : _options.ExpectedAccessToken;
        if ((headerToken is not null && headerToken != expected) || (bodyToken is not null && bodyToken != expected))
        {
            return new GraphApiError(400, GraphErrorCodes.InvalidAccessToken, null,
                "Invalid OAuth access token - Cannot parse access token");
        }

        return null;
    }

    private async Task WriteAsync(
        HttpContext context,
        RecordedRequest? request,
        FakeResponse? scripted,
        int status,
        string body,
        string contentType,
        bool accept)
    {
        // Recorded before the answer leaves, so a test that saw the answer also sees the record.
        request?.SetAnswer(status, body, scripted);
        if (accept && request is not null)
        {
            lock (_gate)
            {
                _acceptedEvents.AddRange(request.Events);
                SignalWaiters();
            }

            Interlocked.Add(ref _eventsReceived, request.Events.Count);
        }

        var response = context.Response;
        response.StatusCode = status;
        response.Headers["x-fb-trace-id"] = GraphApiError.NewFbtraceId();
        if (scripted?.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        if (body.Length > 0)
        {
            response.ContentType = contentType;
            await response.WriteAsync(body, Encoding.UTF8).ConfigureAwait(false);
        }
    }

    private static string SuccessBody(int eventsReceived) =>
        $"{{\"events_received\":{eventsReceived},\"messages\":[],\"fbtrace_id\":\"{GraphApiError.NewFbtraceId()}\"}}";

    private static async Task DelayAsync(TimeSpan delay, CancellationToken aborted)
    {
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, aborted).ConfigureAwait(false);
        }
    }

    private void SignalWaiters()
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            var waiter = _waiters[i];
            if (CurrentCount(waiter.ForEvents) >= waiter.Count)
            {
                _waiters.RemoveAt(i);
                waiter.Completion.TrySetResult();
            }
        }
    }

    [GeneratedRegex("^v[0-9]+\\.[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    private sealed class Waiter(int count, bool forEvents)
    {
        public int Count { get; } = count;

        public bool ForEvents { get; } = forEvents;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
