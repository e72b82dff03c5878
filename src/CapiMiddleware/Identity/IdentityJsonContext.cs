using System.Text.Json.Serialization;

namespace CapiMiddleware.Identity;

/// <summary>Source-generated serialization of <see cref="CapturedIdentity"/>, as the SQLite and Redis stores keep it (<see cref="CapturedIdentity.Set"/>).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CapturedIdentity))]
internal sealed partial class IdentityJsonContext : JsonSerializerContext;
