using BenchmarkDotNet.Attributes;
using CapiMiddleware.Hashing;

namespace CapiMiddleware.Benchmarks;

/// <summary>Normalize and SHA-256 one raw value, per <c>user_data</c> field.</summary>
[MemoryDiagnoser]
public class HashingBenchmarks
{
    // Typical raw input per field, untidy as forms send it.
    private static readonly Dictionary<string, (UserDataField Field, string Value)> Inputs = new()
    {
        ["em"] = (UserDataField.Email, " Customer.42@Example.COM "),
        ["ph"] = (UserDataField.Phone, "+1 (650) 555-0042"),
        ["fn"] = (UserDataField.FirstName, "Chloé"),
        ["ln"] = (UserDataField.LastName, "O'Neil"),
        ["ge"] = (UserDataField.Gender, "Female"),
        ["db"] = (UserDataField.DateOfBirth, "1990-02-14"),
        ["ct"] = (UserDataField.City, "San Francisco"),
        ["st"] = (UserDataField.State, "California"),
        ["zp"] = (UserDataField.Zip, "94025-1234"),
        ["country"] = (UserDataField.Country, "United States"),
        ["external_id"] = (UserDataField.ExternalId, "user-123456"),
    };

    private UserDataField _field;
    private string _value = "";

    [ParamsSource(nameof(FieldNames))]
    public string Field { get; set; } = "";

    public static IEnumerable<string> FieldNames => Inputs.Keys;

    [GlobalSetup]
    public void Setup() => (_field, _value) = Inputs[Field];

    [Benchmark]
    public string? NormalizeAndHash() => UserDataHasher.NormalizeAndHash(_field, _value);
}
