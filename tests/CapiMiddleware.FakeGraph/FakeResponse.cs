namespace CapiMiddleware.FakeGraph;

/// <summary>What kind of scripted answer a <see cref="FakeResponse"/> is.</summary>
public enum FakeResponseKind
{
    /// <summary>A status code with a raw body (or a success body for 2xx without one).</summary>
    Status,

    /// <summary>A Graph error body <c>{"error":{...}}</c>.</summary>
    GraphError,

    /// <summary>The connection is aborted without an answer.</summary>
    ConnectionReset,

    /// <summary>No answer until the client gives up.</summary>
    Hang,

    /// <summary>200 with a truncated JSON body.</summary>
    MalformedJson,

    /// <summary>A proxy's HTML error page instead of JSON.</summary>
    HtmlErrorPage,
}

/// <summary>
/// A scripted answer for <see cref="FakeGraphApiServer.EnqueueResponse"/> or
/// <see cref="FakeGraphApiServer.Responder"/>; it replaces validation for one request.
/// </summary>
public sealed record FakeResponse
{
    private FakeResponse(FakeResponseKind kind, int statusCode)
    {
        Kind = kind;
        StatusCode = statusCode;
    }

    /// <summary>What kind of answer this is.</summary>
    public FakeResponseKind Kind { get; }

    /// <summary>The HTTP status answered; unused for <see cref="FakeResponseKind.ConnectionReset"/> and <see cref="FakeResponseKind.Hang"/>.</summary>
    public int StatusCode { get; init; }

    /// <summary>The raw body of a <see cref="FakeResponseKind.Status"/> answer.</summary>
    public string? Body { get; init; }

    /// <summary>The Graph error of a <see cref="FakeResponseKind.GraphError"/> answer.</summary>
    public GraphApiError? Error { get; init; }

    /// <summary>When set, a <c>Retry-After</c> header in whole seconds (rounded up).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Waited before answering, on top of <see cref="FakeGraphApiOptions.ResponseDelay"/>. The default value is zero.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>
    /// Answers <paramref name="code"/> with <paramref name="body"/> as JSON. Without a body a 2xx answer is
    /// Meta's success body (and its events count as accepted), any other status an empty body.
    /// </summary>
    public static FakeResponse Status(int code, string? body = null, TimeSpan? retryAfter = null) =>
        new(FakeResponseKind.Status, code) { Body = body, RetryAfter = retryAfter };

    /// <summary>Answers a Graph error, e.g. <c>GraphError(2, isTransient: true, httpStatus: 500)</c> or <c>GraphError(613, httpStatus: 429)</c>.</summary>
    public static FakeResponse GraphError(
        int code,
        int? subcode = null,
        bool isTransient = false,
        int httpStatus = 400,
        string message = "An unexpected error has occurred. Please retry your request later.",
        TimeSpan? retryAfter = null) =>
        new(FakeResponseKind.GraphError, httpStatus)
        {
            Error = new GraphApiError(httpStatus, code, subcode, message, isTransient),
            RetryAfter = retryAfter,
        };

    /// <summary>Aborts the connection (<c>HttpContext.Abort()</c>): the client sees a network error.</summary>
    public static FakeResponse ConnectionReset() => new(FakeResponseKind.ConnectionReset, 0);

    /// <summary>Never answers; the request ends when the client gives up or the server is disposed.</summary>
    public static FakeResponse Hang() => new(FakeResponseKind.Hang, 0);

    /// <summary>200 with a JSON body cut off half-way.</summary>
    public static FakeResponse MalformedJson() => new(FakeResponseKind.MalformedJson, 200);

    /// <summary>A load balancer's HTML error page, as seen during real outages.</summary>
    public static FakeResponse HtmlErrorPage(int status = 502) => new(FakeResponseKind.HtmlErrorPage, status);

    /// <summary><paramref name="then"/>, answered after <paramref name="delay"/>.</summary>
    public static FakeResponse Delayed(TimeSpan delay, FakeResponse then)
    {
        ArgumentNullException.ThrowIfNull(then);
        return then with { Delay = then.Delay + delay };
    }

    /// <summary>This answer, given after <paramref name="delay"/>.</summary>
    public FakeResponse WithDelay(TimeSpan delay) => this with { Delay = delay };
}
