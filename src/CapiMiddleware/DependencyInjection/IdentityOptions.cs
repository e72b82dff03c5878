namespace CapiMiddleware;

/// <summary>
/// Where the identities captured at checkout wait for the payment provider's webhook: section
/// <c>MetaConversions:Identities</c>. They live in the outbox's store (<see cref="OutboxOptions.Provider"/>): memory,
/// the SQLite file in <see cref="OutboxOptions.Path"/>, or Redis under <see cref="OutboxOptions.RedisKeyPrefix"/>.
/// They hold no raw personal data: user fields are kept hashed.
/// </summary>
public sealed class IdentityOptions
{
    /// <summary>
    /// How long a captured identity is kept for its payment confirmation, from 1 minute to 7 days (Meta refuses events
    /// older than 7 days). A confirmation arriving later is sent without the visitor's identifiers. The default value is
    /// 3 days.
    /// </summary>
    public TimeSpan Lifetime { get; set; } = MetaConversionsDefaults.IdentityLifetime;

    /// <summary>
    /// How many identities the <c>memory</c> store keeps at most, from 1 to 10,000,000; when full, the oldest is
    /// dropped to make room (counted by <c>capimiddleware.identities.evicted</c>). Not used by <c>sqlite</c> or
    /// <c>redis</c>, which expire identities after <see cref="Lifetime"/>. The default value is 100,000.
    /// </summary>
    public int Capacity { get; set; } = MetaConversionsDefaults.IdentityCapacity;
}
