using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Client;

/// <summary>
/// Runs the built browser snippet (client/dist/meta-capi.js) in Node's fake browser through snippet-host.cjs.
/// One Node process per test class (xunit class fixture).
/// </summary>
public sealed class SnippetHost : IAsyncDisposable, IDisposable
{
    private const string HostModule = "tests/CapiMiddleware.Tests/Client/snippet-host.cjs";
    private readonly NodeProcess _node = new();

    public string RepositoryRoot => NodeProcess.RepositoryRoot;

    public string SnippetPath { get; } = Path.Combine(NodeProcess.RepositoryRoot, "client", "dist", "meta-capi.js");

    public Task<SnippetRunResult> RunAsync(SnippetOptions options) =>
        _node.InvokeAsync<SnippetRunResult>(HostModule, "run", options with { SnippetPath = SnippetPath });

    public Task<SnippetTrackResult> TrackAsync(SnippetOptions options) =>
        _node.InvokeAsync<SnippetTrackResult>(HostModule, "track", options with { SnippetPath = SnippetPath });

    public void Dispose() => _node.Dispose();

    public ValueTask DisposeAsync() => _node.DisposeAsync();
}

/// <summary>The options of snippet-host.cjs <c>run</c> and <c>track</c>.</summary>
public sealed record SnippetOptions
{
    [JsonPropertyName("snippetPath")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SnippetPath { get; init; }

    [JsonPropertyName("url")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Url { get; init; }

    [JsonPropertyName("cookie")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Cookie { get; init; }

    /// <summary>The text of <c>#meta-capi-data</c>; null for a page without the element.</summary>
    [JsonPropertyName("dataBlockJson")]
    public string? DataBlockJson { get; init; }

    [JsonPropertyName("fbqPresent")]
    public bool FbqPresent { get; init; }

    /// <summary>Whether the page's <c>fbq</c> throws on every call.</summary>
    [JsonPropertyName("fbqThrows")]
    public bool FbqThrows { get; init; }

    [JsonPropertyName("readyState")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReadyState { get; init; }

    [JsonPropertyName("waitMs")]
    public int WaitMs { get; init; } = 10;

    /// <summary>For <c>run</c>: <c>metaCapi.consent(...)</c> calls made once the page has started, in order.</summary>
    [JsonPropertyName("consent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<bool>? Consent { get; init; }

    /// <summary>For <c>track</c>: the event name.</summary>
    [JsonPropertyName("name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    /// <summary>For <c>track</c>: the event data.</summary>
    [JsonPropertyName("data")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonNode? Data { get; init; }
}

/// <summary>What snippet-host.cjs <c>run</c> reports.</summary>
public sealed record SnippetRunResult(
    [property: JsonPropertyName("fbqCalls")] IReadOnlyList<JsonElement> FbqCalls,
    [property: JsonPropertyName("cookies")] IReadOnlyDictionary<string, string> Cookies,
    [property: JsonPropertyName("cookieWrites")] IReadOnlyList<string> CookieWrites,
    [property: JsonPropertyName("errors")] IReadOnlyList<string> Errors,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string> Warnings,
    [property: JsonPropertyName("api")] IReadOnlyList<string> Api);

/// <summary>What snippet-host.cjs <c>track</c> reports.</summary>
public sealed record SnippetTrackResult(
    [property: JsonPropertyName("eventId")] string EventId,
    [property: JsonPropertyName("headers")] IReadOnlyDictionary<string, string> Headers,
    [property: JsonPropertyName("fbqCalls")] IReadOnlyList<JsonElement> FbqCalls,
    [property: JsonPropertyName("errors")] IReadOnlyList<string> Errors);
