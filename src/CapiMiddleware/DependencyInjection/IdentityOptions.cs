namespace CapiMiddleware;

/// <summary>
/// Identities captured when visitors start paying (<c>HttpContext.CaptureMetaIdentityAsync</c>), joined later to the
/// payment confirmation (<see cref="ConversionEvent.WithIdentityOf(string)"/>): section <c>MetaConversions:Identities</c>.
/// </summary>
public sealed class IdentityOptions
{
    /// <summary>How long a captured identity is kept for its confirmation, from 1 minute to 7 days (Meta takes events up to 7 days old). The default value is 3 days.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How many identities the <c>memory</c> store keeps at most; the oldest goes first. The default value is 100,000.</summary>
    public int Capacity { get; set; } = 100_000;
}
