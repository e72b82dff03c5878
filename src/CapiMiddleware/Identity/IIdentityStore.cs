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
    DateTimeOffset CapturedAt);

/// <summary>Where captured identities wait for their payment confirmation: memory, or the durable outbox's SQLite file or Redis.</summary>
internal interface IIdentityStore
{
    /// <summary>Keeps <paramref name="identity"/> under <paramref name="key"/> until <paramref name="expiresAt"/>, replacing one kept under the same key.</summary>
    /// <remarks>
    /// Stores have no clock of their own: a save also sweeps a bounded number of identities expired at
    /// <see cref="CapturedIdentity.CapturedAt"/>, which the caller sets from its <see cref="TimeProvider"/>.
    /// </remarks>
    ValueTask SaveAsync(string key, CapturedIdentity identity, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Takes the identity kept under <paramref name="key"/> and deletes it (used once); null when unknown or expired at <paramref name="now"/>.</summary>
    ValueTask<CapturedIdentity?> TakeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>How many identities are kept now (expired ones may be counted until they are swept).</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken);
}
