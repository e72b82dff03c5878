using System.Text.Json.Serialization;
using CapiMiddleware.Hashing;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Reference;

/// <summary>
/// Meta's Parameter Builder (npm <c>capi-param-builder-nodejs</c>) running in Node: what Meta's own library hashes a
/// value to, and which <c>_fbc</c>/<c>_fbp</c> cookies it writes for a request. The oracle for every user-data hash the
/// library sends and for its cookie decisions. One Node process per test class (an xunit class fixture).
/// </summary>
public sealed class ParameterBuilder : IAsyncDisposable, IDisposable
{
    private const string HostModule = "tests/CapiMiddleware.Tests/Reference/reference-host.cjs";
    private readonly NodeProcess _node = new();

    /// <summary>The reference's hash of each value (appendix stripped), or null where it drops the value.</summary>
    internal Task<string?[]> HashAsync(params (UserDataField Field, string? Value)[] items) =>
        _node.InvokeAsync<string?[]>(HostModule, "hash", [items.Select(i => new Item(i.Value, TypeName(i.Field))).ToArray()]);

    /// <summary>
    /// For each value of one field, in one call: the reference's hash (appendix stripped, null where it drops the
    /// value) and the normalized string it hashed (for reports).
    /// </summary>
    internal Task<NormalizedValue[]> NormalizeAndHashAsync(UserDataField field, IReadOnlyList<string> values) =>
        _node.InvokeAsync<NormalizedValue[]>(HostModule, "normalizeAndHash", TypeName(field), values);

    /// <summary>The cookies <c>ParamBuilder.processRequest</c> would write for each request, in one call.</summary>
    internal Task<ProcessedRequest[]> ProcessRequestsAsync(IReadOnlyList<RequestCase> cases) =>
        _node.InvokeAsync<ProcessedRequest[]>(HostModule, "processRequests", [cases]);

    public void Dispose() => _node.Dispose();

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private static string TypeName(UserDataField field) => field switch
    {
        UserDataField.Email => "email",
        UserDataField.Phone => "phone",
        UserDataField.FirstName => "first_name",
        UserDataField.LastName => "last_name",
        UserDataField.DateOfBirth => "date_of_birth",
        UserDataField.Gender => "gender",
        UserDataField.City => "city",
        UserDataField.State => "state",
        UserDataField.Zip => "zip_code",
        UserDataField.Country => "country",
        _ => "external_id",
    };

    internal sealed record NormalizedValue(
        [property: JsonPropertyName("hash")] string? Hash,
        [property: JsonPropertyName("normalized")] string? Normalized);

    /// <param name="Host">The Host header (may carry a port).</param>
    /// <param name="Domains">The domain list given to the constructor, or null for none (its eTLD+1 guess).</param>
    /// <param name="Query">The raw query string, with its <c>?</c>.</param>
    /// <param name="Cookies">The request's cookies by name (absent ones left out).</param>
    /// <param name="Referer">The Referer header, or null.</param>
    internal sealed record RequestCase(
        [property: JsonPropertyName("host")] string Host,
        [property: JsonPropertyName("domains")] string[]? Domains,
        [property: JsonPropertyName("query")] string Query,
        [property: JsonPropertyName("cookies")] IReadOnlyDictionary<string, string> Cookies,
        [property: JsonPropertyName("referer")] string? Referer);

    /// <param name="Set">The cookies it would write, by name, values as written (with its appendix).</param>
    /// <param name="Error">What it threw, or null.</param>
    internal sealed record ProcessedRequest(
        [property: JsonPropertyName("set")] Dictionary<string, string> Set,
        [property: JsonPropertyName("error")] string? Error);

    private sealed record Item([property: JsonPropertyName("value")] string? Value, [property: JsonPropertyName("type")] string Type);
}
