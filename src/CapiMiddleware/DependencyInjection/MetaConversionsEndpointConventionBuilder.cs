using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The endpoints that <see cref="MetaConversionsEndpointRouteBuilderExtensions.MapMetaConversions"/> maps. A convention
/// added to this builder (<c>RequireRateLimiting</c>, <c>RequireCors</c>, <c>RequireAuthorization</c>, <c>WithMetadata</c>,
/// ...) applies to every one of them; a convention added to one of its properties applies to that endpoint alone.
/// </summary>
/// <remarks>
/// The snippet, the beacon, <c>POST /_capi/events</c> and <c>GET /_capi/ip</c> are requested by the pages of every visitor,
/// signed in or not: they allow anonymous requests, so neither a fallback authorization policy nor
/// <c>RequireAuthorization</c> on this builder keeps visitors of public pages from them. The inspector does not: an
/// authorization convention applies to it, in addition to <see cref="CapiMiddleware.InspectorOptions.AuthorizationPolicy"/>.
/// </remarks>
/// <example>
/// <code>
/// var capi = app.MapMetaConversions().RequireRateLimiting("per-client"); // every endpoint of the library
/// capi.Inspector.RequireAuthorization("Ops");                            // the inspector alone
/// capi.Snippet.RequireCors("cdn");                                       // the snippet alone
/// </code>
/// </example>
public sealed class MetaConversionsEndpointConventionBuilder : IEndpointConventionBuilder
{
    private readonly LibraryEndpoints.ConventionBuilders _all;

    internal MetaConversionsEndpointConventionBuilder(
        IEndpointConventionBuilder snippet,
        IEndpointConventionBuilder beacon,
        IEndpointConventionBuilder sharedPageEvents,
        IEndpointConventionBuilder clientIp,
        IEndpointConventionBuilder inspector)
    {
        Snippet = snippet;
        Beacon = beacon;
        SharedPageEvents = sharedPageEvents;
        ClientIp = clientIp;
        Inspector = inspector;
        _all = new LibraryEndpoints.ConventionBuilders(snippet, beacon, sharedPageEvents, clientIp, inspector);
    }

    /// <summary>
    /// The browser snippet: <c>GET /_capi/meta-capi.&lt;hash&gt;.js</c> (the URL <c>&lt;meta-pixel /&gt;</c> renders,
    /// cached for a year) and <c>GET /_capi/meta-capi.js</c> (for static pages, cached for 5 minutes). Served while the
    /// library is on (<see cref="CapiMiddleware.MetaConversionsOptions.Enabled"/>).
    /// </summary>
    public IEndpointConventionBuilder Snippet { get; }

    /// <summary>
    /// <c>POST /_capi/beacon</c>, where the snippet reports once per page view whether the Pixel was blocked. Served while
    /// <see cref="CapiMiddleware.MetaConversionsOptions.ReportPixelBlocking"/> is on; same-origin only, 30 a minute per
    /// client.
    /// </summary>
    public IEndpointConventionBuilder Beacon { get; }

    /// <summary>
    /// <c>POST /_capi/events</c>, where the snippet sends the server's copy of the conversions that pages shared between
    /// visitors declare (<see cref="CapiMiddleware.SharedPageCacheAttribute"/>); same-origin only, 30 a minute per client.
    /// </summary>
    public IEndpointConventionBuilder SharedPageEvents { get; }

    /// <summary>
    /// <c>GET /_capi/ip</c>, which answers the caller's IP address for the snippet's <c>_fbi</c> cookie
    /// (<see cref="CapiMiddleware.MetaConversionsOptions.ClientIpEndpoint"/>).
    /// </summary>
    public IEndpointConventionBuilder ClientIp { get; }

    /// <summary>
    /// The inspector: <c>GET /_capi/inspector</c> and its script, style sheet, <c>events.json</c> and <c>summary.json</c>.
    /// Served while the inspector is on (<see cref="CapiMiddleware.MetaConversionsOptions.Inspector"/>); while it is off,
    /// routing passes its paths on to the application's endpoints, as if they were not mapped.
    /// </summary>
    public IEndpointConventionBuilder Inspector { get; }

    /// <summary>Adds a convention to every endpoint of the library.</summary>
    /// <param name="convention">The convention.</param>
    public void Add(Action<EndpointBuilder> convention)
    {
        ArgumentNullException.ThrowIfNull(convention);
        _all.Add(convention);
    }

    /// <summary>Adds a convention to every endpoint of the library, run after all the others.</summary>
    /// <param name="finallyConvention">The convention.</param>
    public void Finally(Action<EndpointBuilder> finallyConvention)
    {
        ArgumentNullException.ThrowIfNull(finallyConvention);
        _all.Finally(finallyConvention);
    }
}
