using System.Text.Json.Serialization;
using CapiMiddleware.Hashing;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Reference;

/// <summary>
/// Meta's Parameter Builder (npm <c>capi-param-builder-nodejs</c>) running in Node: what Meta's own library hashes a
/// value to. The oracle for every user-data hash the library sends.
/// </summary>
public sealed class ParameterBuilder : IAsyncDisposable, IDisposable
{
    private const string HostModule = "tests/CapiMiddleware.Tests/Reference/reference-host.cjs";
    private readonly NodeProcess _node = new();

    /// <summary>The reference's hash of each value (appendix stripped), or null where it drops the value.</summary>
    internal Task<string?[]> HashAsync(params (UserDataField Field, string? Value)[] items) =>
        _node.InvokeAsync<string?[]>(HostModule, "hash", [items.Select(i => new Item(i.Value, TypeName(i.Field))).ToArray()]);

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

    private sealed record Item([property: JsonPropertyName("value")] string? Value, [property: JsonPropertyName("type")] string Type);
}
