using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Jering.Javascript.NodeJS;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Client;

/// <summary>
/// Runs the built browser snippet (client/dist/meta-capi.js) in Node's fake browser through snippet-host.cjs.
/// One Node process per test class (xunit class fixture).
/// </summary>
public sealed class SnippetHost : IAsyncDisposable, IDisposable
{
    private readonly ServiceProvider _services;
    private readonly INodeJSService _node;

    public SnippetHost()
    {
        RepositoryRoot = FindRepositoryRoot();
        SnippetPath = Path.Combine(RepositoryRoot, "client", "dist", "meta-capi.js");

        // Run from its place in the repository: it shares the fake browser of the snippet's own tests (client/test).
        HostPath = Path.Combine(RepositoryRoot, "tests", "CapiMiddleware.Tests", "Client", "snippet-host.cjs");

        var services = new ServiceCollection();
        services.AddNodeJS();
        services.Configure<NodeJSProcessOptions>(o => o.ProjectPath = AppContext.BaseDirectory);
        _services = services.BuildServiceProvider();
        _node = _services.GetRequiredService<INodeJSService>();
    }

    public string RepositoryRoot { get; }

    public string SnippetPath { get; }

    public string HostPath { get; }

    public async Task<SnippetRunResult> RunAsync(SnippetOptions options) =>
        await InvokeAsync<SnippetRunResult>("run", options);

    public async Task<SnippetTrackResult> TrackAsync(SnippetOptions options) =>
        await InvokeAsync<SnippetTrackResult>("track", options);

    private async Task<T> InvokeAsync<T>(string exportName, SnippetOptions options)
    {
        var result = await _node.InvokeFromFileAsync<T>(HostPath, exportName, [options with { SnippetPath = SnippetPath }]);
        return result ?? throw new InvalidOperationException($"snippet-host.cjs {exportName}() returned nothing.");
    }

    public void Dispose() => _services.Dispose();

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    // The output directory sits under the repository when the repository's own test project runs; a build elsewhere
    // (a scratch project compiling these files by link) still knows where this source file was compiled from.
    private static string FindRepositoryRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "client", "dist", "meta-capi.js")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException(
            "client/dist/meta-capi.js not found above " + AppContext.BaseDirectory + ": run `node client/build.mjs` in the repository first.");
    }
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
