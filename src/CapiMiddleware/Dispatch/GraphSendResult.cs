using System.Net;

namespace CapiMiddleware.Dispatch;

internal enum SendOutcome
{
    /// <summary>Meta answered 200.</summary>
    Accepted,

    /// <summary>Worth trying again: network, time-out, 5xx, 429, Graph's temporary and throttling codes.</summary>
    Transient,

    /// <summary>Graph code 100: some event in the batch is invalid, and the whole batch was refused.</summary>
    InvalidEvents,

    /// <summary>Graph code 190: the access token is expired or invalid.</summary>
    TokenRejected,

    /// <summary>Graph codes 10 and 200-299: the token lacks a permission.</summary>
    PermissionDenied,

    /// <summary>Any other refusal that retrying will not fix.</summary>
    Rejected,

    /// <summary>The host stopped before the send finished.</summary>
    Cancelled,
}

/// <summary>What one send of a batch came to, in the terms the sender acts on.</summary>
internal sealed record GraphSendResult(SendOutcome Outcome)
{
    public HttpStatusCode? StatusCode { get; init; }

    public GraphError? Error { get; init; }

    public int EventsReceived { get; init; }

    public string? FbTraceId { get; init; }

    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Whether Graph asked us to slow down (throttling codes), so back-off should be harder.</summary>
    public bool IsThrottled { get; init; }

    /// <summary>A one-line description of a failure without a Graph error body (network error, HTML page, time-out).</summary>
    public string? Detail { get; init; }

    public static GraphSendResult Accepted(int eventsReceived, string? fbTraceId) =>
        new(SendOutcome.Accepted) { StatusCode = HttpStatusCode.OK, EventsReceived = eventsReceived, FbTraceId = fbTraceId };

    /// <summary>Classifies a non-200 answer by the rules of Meta's error reference.</summary>
    public static GraphSendResult FromError(HttpStatusCode status, GraphError? error, TimeSpan? retryAfter, string? detail)
    {
        var code = error?.Code;
        var throttled = code is 4 or 17 or 32 or 341 or 613;
        var outcome = code switch
        {
            _ when (int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout => SendOutcome.Transient,
            _ when error?.IsTransient == true => SendOutcome.Transient,
            1 or 2 => SendOutcome.Transient,
            _ when throttled => SendOutcome.Transient,
            190 => SendOutcome.TokenRejected,
            10 or (>= 200 and <= 299) => SendOutcome.PermissionDenied,
            100 => SendOutcome.InvalidEvents,
            _ => SendOutcome.Rejected,
        };

        return new GraphSendResult(outcome)
        {
            StatusCode = status,
            Error = error,
            FbTraceId = error?.FbTraceId,
            RetryAfter = retryAfter,
            IsThrottled = throttled || status == HttpStatusCode.TooManyRequests,
            Detail = detail,
        };
    }

    public static GraphSendResult TransientFailure(string detail) => new(SendOutcome.Transient) { Detail = detail };

    /// <summary>A one-line summary for logs: HTTP status, Graph's message, code, subcode and trace ID; never the token.</summary>
    public string Describe()
    {
        var status = StatusCode is { } s ? $"HTTP {(int)s}" : "no response";
        return Error is { } e
            ? $"{status}: {e.Message} (code {e.Code?.ToString() ?? "-"}, subcode {e.Subcode?.ToString() ?? "-"}, fbtrace_id {e.FbTraceId ?? "-"})"
            : $"{status}: {Detail ?? "no details"}";
    }
}
