namespace CapiMiddleware;

/// <summary>
/// The inspector page at <c>/_capi/inspector</c> (mapped by <c>app.MapMetaConversions()</c>): section
/// <c>MetaConversions:Inspector</c>. It shows the latest events with the Pixel's copy and the server's copy side by side,
/// their delivery and match quality estimate.
/// </summary>
public sealed class InspectorOptions
{
    /// <summary>
    /// Whether the inspector is on. <see langword="null"/>: on in the Development environment only. <see langword="true"/>:
    /// on; outside Development only together with <see cref="AuthorizationPolicy"/>, without which it stays off (the
    /// log says so at start-up). <see langword="false"/>: off. While off, nothing is recorded and its paths answer 404
    /// from the application as if it did not exist. The default value is <see langword="null"/>.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>
    /// The name of the authorization policy (<c>AddAuthorization(o =&gt; o.AddPolicy(...))</c>) a request must satisfy
    /// to see the inspector. When set, it is required in every environment; a request that fails it is challenged
    /// (401) or forbidden (403) by the policy's authentication schemes. The inspector evaluates it itself, so it holds
    /// whether or not the application authorizes its endpoints; what the application adds to the endpoint
    /// (<c>app.MapMetaConversions().Inspector.RequireAuthorization(...)</c>) must be satisfied too. The default value
    /// is <see langword="null"/>.
    /// </summary>
    public string? AuthorizationPolicy { get; set; }
}
