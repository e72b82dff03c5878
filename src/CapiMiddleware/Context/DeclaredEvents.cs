using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using CapiMiddleware.Events;
using Microsoft.AspNetCore.DataProtection;

namespace CapiMiddleware.Context;

/// <summary>A conversion a shared page declares: what the Pixel is handed (no event ID) and the path of the page that declared it.</summary>
internal sealed record SharedDeclaration(
    [property: JsonPropertyName("event")] PixelEvent Event,
    [property: JsonPropertyName("path")] string Path);

/// <summary>
/// Seals the conversions a shared (cached) page declares, so that <c>POST /_capi/events</c> takes only events the site's
/// own markup declared, with the values it declared: a data-protected token per event, rendered into the page beside
/// the data the Pixel needs. The token carries no per-visitor state and does not expire (cached pages live long); a
/// replayed token can only report the same declared event again, under a new event ID, within the endpoint's limits.
/// </summary>
internal sealed class DeclaredEvents(IDataProtectionProvider dataProtection)
{
    /// <summary>The longest token taken.</summary>
    public const int MaxTokenLength = 4096;

    private readonly IDataProtector _protector = dataProtection.CreateProtector("CapiMiddleware.DeclaredEvents.v1");

    public string Seal(SharedDeclaration declaration) =>
        Base64Url.EncodeToString(_protector.Protect(JsonSerializer.SerializeToUtf8Bytes(declaration, GraphJsonContext.Default.SharedDeclaration)));

    /// <summary>The declaration a token holds, or null when it is not one this site sealed.</summary>
    public SharedDeclaration? Open(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(_protector.Unprotect(Base64Url.DecodeFromChars(token)), GraphJsonContext.Default.SharedDeclaration);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            return null;
        }
    }
}
