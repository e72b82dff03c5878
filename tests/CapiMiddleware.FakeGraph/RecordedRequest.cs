using System.Text.Json;

namespace CapiMiddleware.FakeGraph;

/// <summary>One request as the fake received it, and (once answered) what it answered.</summary>
public sealed class RecordedRequest
{
    private volatile Answer? _answer;

    /// <summary>0 for the first request since start or <see cref="FakeGraphApiServer.Reset"/>, then 1, 2...</summary>
    public required int Sequence { get; init; }

    /// <summary>When it arrived, by <see cref="FakeGraphApiOptions.TimeProvider"/>.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The HTTP method.</summary>
    public required string Method { get; init; }

    /// <summary>The path, e.g. <c>/v24.0/123/events</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The version segment of the path, when the path had the expected shape.</summary>
    public string? Version { get; init; }

    /// <summary>The pixel id segment of the path, when the path had the expected shape.</summary>
    public string? PixelId { get; init; }

    /// <summary>The raw query string including its <c>?</c>, or empty.</summary>
    public required string QueryString { get; init; }

    /// <summary>A copy of the request headers (case-insensitive names, multiple values joined by commas).</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>The raw body.</summary>
    public required string Body { get; init; }

    /// <summary>The parsed body, or <see langword="null"/> when it was not JSON.</summary>
    public JsonElement? Json { get; init; }

    /// <summary>The elements of the body's <c>data</c> array; empty when there is none.</summary>
    public IReadOnlyList<JsonElement> Events { get; init; } = [];

    /// <summary>True when the access token (or an <c>access_token</c> parameter) was in the URL: a violation.</summary>
    public bool AccessTokenInUrl { get; init; }

    /// <summary>The status answered; <see langword="null"/> while unanswered, and for aborted or hung requests.</summary>
    public int? StatusCode => _answer?.StatusCode;

    /// <summary>The body answered; <see langword="null"/> while unanswered.</summary>
    public string? ResponseBody => _answer?.Body;

    /// <summary>The scripted answer used instead of validation, if any.</summary>
    public FakeResponse? ScriptedResponse => _answer?.Scripted;

    /// <summary>True once the fake has decided its answer (set just before the answer is written).</summary>
    public bool IsAnswered => _answer is not null;

    internal void SetAnswer(int? statusCode, string? body, FakeResponse? scripted) =>
        _answer = new Answer(statusCode, body, scripted);

    /// <inheritdoc/>
    public override string ToString() =>
        $"#{Sequence} {Method} {Path}{QueryString} -> {StatusCode?.ToString() ?? "(no answer)"}";

    private sealed record Answer(int? StatusCode, string? Body, FakeResponse? Scripted);
}
