using System.Text.Json.Serialization;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Reference;

/// <summary>
/// Meta's Node SDK (npm <c>facebook-nodejs-business-sdk</c> 24.0.1) running in Node: the JSON its <c>ServerEvent</c>
/// sends for an event built with its setters. The oracle of <see cref="NodeSdkDifferentialTests"/>. One Node process
/// per test class (an xunit class fixture).
/// </summary>
public sealed class NodeSdk : IAsyncDisposable, IDisposable
{
    private const string HostModule = "tests/CapiMiddleware.Tests/Reference/node-sdk-host.cjs";
    private readonly NodeProcess _node = new();

    /// <summary>What the SDK sends for the event the setter calls of <paramref name="spec"/> build.</summary>
    internal Task<NodeSdkEvent> BuildAsync(NodeSdkSpec spec) => _node.InvokeAsync<NodeSdkEvent>(HostModule, "build", spec);

    public void Dispose() => _node.Dispose();

    public ValueTask DisposeAsync() => _node.DisposeAsync();
}

/// <summary>
/// An event as setter calls on the SDK's objects, each a map of setter name to argument, called in order: the
/// <c>ServerEvent</c>'s, its <c>UserData</c>'s, and so on.
/// </summary>
internal sealed record NodeSdkSpec
{
    [JsonPropertyName("event")]
    public required Dictionary<string, object?> Event { get; init; }

    [JsonPropertyName("user")]
    public Dictionary<string, object?>? User { get; init; }

    [JsonPropertyName("custom")]
    public Dictionary<string, object?>? Custom { get; init; }

    [JsonPropertyName("contents")]
    public Dictionary<string, object?>[]? Contents { get; init; }

    [JsonPropertyName("app")]
    public Dictionary<string, object?>? App { get; init; }

    [JsonPropertyName("extinfo")]
    public Dictionary<string, object?>? ExtInfo { get; init; }

    [JsonPropertyName("original")]
    public Dictionary<string, object?>? Original { get; init; }

    [JsonPropertyName("attribution")]
    public Dictionary<string, object?>? Attribution { get; init; }

    [JsonPropertyName("attributionSetting")]
    public Dictionary<string, object?>? AttributionSetting { get; init; }
}

/// <summary>
/// The SDK's <c>JSON.stringify(serverEvent.normalize())</c>, and the <c>normalize()</c> of the original event and
/// attribution objects it was given (null when none).
/// </summary>
internal sealed record NodeSdkEvent(
    [property: JsonPropertyName("sent")] string Sent,
    [property: JsonPropertyName("original")] string? Original,
    [property: JsonPropertyName("attribution")] string? Attribution);
