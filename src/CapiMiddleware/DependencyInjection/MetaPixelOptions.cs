namespace CapiMiddleware;

/// <summary>
/// One more Meta Pixel (dataset) that events go to, beside <see cref="MetaConversionsOptions.PixelId"/>, with its own
/// access token: for example one pixel per storefront host. Bound from <c>MetaConversions:Pixels:0:PixelId</c> and so on.
/// </summary>
public sealed class MetaPixelOptions
{
    /// <summary>The pixel (dataset) ID, digits only. Required.</summary>
    public string? PixelId { get; set; }

    /// <summary>
    /// The access token for this pixel. The default value is <see langword="null"/>: the pixel uses
    /// <see cref="MetaConversionsOptions.AccessToken"/> (a system user's token can cover several datasets); when that is
    /// absent too, this pixel's events are shown in the log, not sent. Never logged.
    /// </summary>
    public string? AccessToken { get; set; }

    /// <summary>
    /// The secret of the Meta app that issued <see cref="AccessToken"/>, for <c>appsecret_proof</c>. The default value
    /// is <see langword="null"/>: <see cref="MetaConversionsOptions.AppSecret"/> when this pixel uses the shared token,
    /// none when it has its own.
    /// </summary>
    public string? AppSecret { get; set; }

    /// <summary>The Test Events code for this pixel. The default value is <see langword="null"/>: <see cref="MetaConversionsOptions.TestEventCode"/>.</summary>
    public string? TestEventCode { get; set; }

    /// <summary>
    /// The request host names (such as <c>shop.example.com</c>, compared without case and port) whose events and pages
    /// use this pixel. The default value is empty: every host, and events with no web request (offline events).
    /// </summary>
    public IList<string> Hosts { get; set; } = new List<string>();
}
