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

    /// <summary>What <c>ParamBuilder.processRequest</c> decides for every case of a cookie matrix, in one call.</summary>
    internal Task<CookieMatrixResult> ProcessRequestsAsync(CookieMatrix matrix) =>
        _node.InvokeAsync<CookieMatrixResult>(HostModule, "processRequests", matrix);

    /// <summary>The address <c>getClientIpAddress()</c> picks for each (<c>_fbi</c> cookie, connection address) case, appendix stripped.</summary>
    internal Task<string?[]> ClientIpsAsync(IReadOnlyList<string?[]> cases) =>
        _node.InvokeAsync<string?[]>(HostModule, "clientIps", cases);

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

    /// <summary>The dimensions of a cookie matrix and its cases, each an index into them.</summary>
    /// <param name="Hosts">Host headers (may carry a port).</param>
    /// <param name="DomainLists">Domain lists for the constructor; null for none (its eTLD+1 guess).</param>
    /// <param name="Fbcs">Existing <c>_fbc</c> values; null for absent.</param>
    /// <param name="Fbps">Existing <c>_fbp</c> values; null for absent.</param>
    /// <param name="Sources">Where a click ID may be: the raw query string and the Referer header.</param>
    /// <param name="Cases">[host, domain list, fbc, fbp, source] indexes.</param>
    internal sealed record CookieMatrix(
        [property: JsonPropertyName("hosts")] string[] Hosts,
        [property: JsonPropertyName("domainLists")] string[]?[] DomainLists,
        [property: JsonPropertyName("fbcs")] string?[] Fbcs,
        [property: JsonPropertyName("fbps")] string?[] Fbps,
        [property: JsonPropertyName("sources")] ClickIdSource[] Sources,
        [property: JsonPropertyName("cases")] int[][] Cases);

    internal sealed record ClickIdSource(
        [property: JsonPropertyName("query")] string Query,
        [property: JsonPropertyName("referer")] string? Referer);

    /// <param name="FbcValid">Per existing <c>_fbc</c> value: whether the builder accepts it at all.</param>
    /// <param name="FbpValid">Per existing <c>_fbp</c> value: whether the builder accepts it at all.</param>
    /// <param name="Results">Per case, in order.</param>
    internal sealed record CookieMatrixResult(
        [property: JsonPropertyName("fbcValid")] bool[] FbcValid,
        [property: JsonPropertyName("fbpValid")] bool[] FbpValid,
        [property: JsonPropertyName("results")] ProcessedRequest[] Results);

    /// <param name="Fbc">The <c>_fbc</c> value it would write (appendix included), or null.</param>
    /// <param name="Fbp">The <c>_fbp</c> value it would write (appendix included), or null.</param>
    /// <param name="SendsFbc">Whether it ends with an fbc to send (kept or written).</param>
    /// <param name="SendsFbp">Whether it ends with an fbp to send (kept or written).</param>
    /// <param name="SubdomainIndex">Its subdomain index for the request.</param>
    /// <param name="Error">What it threw, or null.</param>
    internal sealed record ProcessedRequest(
        [property: JsonPropertyName("c")] string? Fbc,
        [property: JsonPropertyName("p")] string? Fbp,
        [property: JsonPropertyName("fbc")] bool SendsFbc,
        [property: JsonPropertyName("fbp")] bool SendsFbp,
        [property: JsonPropertyName("i")] int SubdomainIndex,
        [property: JsonPropertyName("e")] string? Error);

    private sealed record Item([property: JsonPropertyName("value")] string? Value, [property: JsonPropertyName("type")] string Type);
}
