using CapiMiddleware.Records;

namespace CapiMiddleware.Identity;

/// <summary>
/// A visitor's identifiers captured when they start paying, kept under a key the site will know when the payment is
/// confirmed (the order ID, the payment session ID). Holds no raw personal data: the user fields are already hashed.
/// </summary>
/// <param name="Consent">False: the visitor had not consented; the later event is not sent at all (a tombstone, every other field null).</param>
/// <param name="ClickId">The _fbc value, byte for byte.</param>
/// <param name="BrowserId">The _fbp value.</param>
/// <param name="ClientIpAddress">The address the event would have carried (public only).</param>
/// <param name="UserAgent">The browser's User-Agent.</param>
/// <param name="PageUrl">The checkout page's URL (event_source_url).</param>
/// <param name="HashedUserData">Wire names (em, ph, fn, ln, db, ge, ct, st, zp, country, external_id) to SHA-256 hex values.</param>
/// <param name="CapturedAt">When it was captured.</param>
internal sealed record CapturedIdentity(
    bool Consent,
    string? ClickId,
    string? BrowserId,
    string? ClientIpAddress,
    string? UserAgent,
    string? PageUrl,
    IReadOnlyDictionary<string, string[]> HashedUserData,
    DateTimeOffset CapturedAt) : IKeptRecord
{
    DateTimeOffset IKeptRecord.KeptAt => CapturedAt;

    /// <summary>How the durable stores keep identities: table <c>identities</c>, Redis keys <c>{prefix}:identity:{key}</c>.</summary>
    internal static KeptRecordSet<CapturedIdentity> Set { get; } = new()
    {
        Name = "identities",
        ItemName = "identity",
        ValueProperty = "Identity",
        Json = IdentityJsonContext.Default.CapturedIdentity,

        // A value written without user fields reads back with none rather than null.
        Complete = identity => identity.HashedUserData is null ? identity with { HashedUserData = new Dictionary<string, string[]>() } : identity,
    };
}
