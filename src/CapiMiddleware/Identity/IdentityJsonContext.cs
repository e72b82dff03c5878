using System.Text.Json;
using System.Text.Json.Serialization;

namespace CapiMiddleware.Identity;

/// <summary>Source-generated serialization of <see cref="CapturedIdentity"/>, as the SQLite and Redis stores keep it.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CapturedIdentity))]
[JsonSerializable(typeof(ExpiringIdentity))]
internal sealed partial class IdentityJsonContext : JsonSerializerContext
{
    public static byte[] Encode(CapturedIdentity identity) => JsonSerializer.SerializeToUtf8Bytes(identity, Default.CapturedIdentity);

    public static byte[] Encode(ExpiringIdentity kept) => JsonSerializer.SerializeToUtf8Bytes(kept, Default.ExpiringIdentity);

    /// <summary>The identity, or <see langword="null"/> for a value this version cannot read (it is treated as unknown).</summary>
    public static CapturedIdentity? Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            return Complete(JsonSerializer.Deserialize(json, Default.CapturedIdentity));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The identity and its expiry, or <see langword="null"/> for a value this version cannot read.</summary>
    public static ExpiringIdentity? DecodeExpiring(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, Default.ExpiringIdentity) is { } kept && Complete(kept.Identity) is { } identity
                ? kept with { Identity = identity }
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // A value written without user fields reads back with none rather than null.
    private static CapturedIdentity? Complete(CapturedIdentity? identity) =>
        identity is { HashedUserData: null } ? identity with { HashedUserData = new Dictionary<string, string[]>() } : identity;
}

/// <summary>An identity with its expiry (Unix milliseconds), as one value where the store has no column for the expiry (Redis).</summary>
internal sealed record ExpiringIdentity(long ExpiresAt, CapturedIdentity Identity);
