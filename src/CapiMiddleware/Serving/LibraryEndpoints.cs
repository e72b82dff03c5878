using CapiMiddleware.Inspector;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Serving;

/// <summary>
/// Maps what the library serves under <c>/_capi</c>: the snippet, the beacon, the events of shared pages, the IP echo
/// and the inspector. <c>app.MapMetaConversions()</c> maps them all (<see cref="Map"/>); an application that calls only
/// <c>app.UseMetaConversions()</c> gets the three that the middleware used to serve (<see cref="MapImplicitly"/>).
/// </summary>
internal static class LibraryEndpoints
{
    /// <summary>
    /// Every endpoint, for the application's conventions. Those a visitor's page requests allow anonymous requests, so a
    /// fallback authorization policy does not lock visitors of public pages out of them; the inspector does not.
    /// </summary>
    public static MetaConversionsEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var snippet = MapSnippet(endpoints).AllowAnonymous();
        var beacon = MapBeacon(endpoints).AllowAnonymous();
        // Request delegates, not handlers with parameters: those are bound by reflection (or by the application's request
        // delegate generator, which does not see a library's calls), so they would not survive trimming or Native AOT.
        var events = endpoints.MapPost(BrowserEvents.Path, static async context =>
                await (await context.RequestServices.GetRequiredService<BrowserEvents>().ReceiveAsync(context)).ExecuteAsync(context))
            .ExcludeFromDescription().DisableAntiforgery().AllowAnonymous().WithDisplayName("Meta Conversions: events of shared pages");
        var clientIp = endpoints.MapGet(ClientIpEcho.Path, static context => ClientIpEcho.Answer(context).ExecuteAsync(context))
            .ExcludeFromDescription().AllowAnonymous().WithDisplayName("Meta Conversions: the caller's IP address");
        var inspector = MapInspector(endpoints);
        return new MetaConversionsEndpointConventionBuilder(snippet, beacon, events, clientIp, inspector);
    }

    /// <summary>
    /// For an application that calls <c>UseMetaConversions()</c> and never <c>MapMetaConversions()</c>: the snippet, the
    /// beacon and the inspector, as the middleware served them before they were endpoints (no authorization of the
    /// application's; the inspector keeps its own policy). They are added as a data source that decides when routing
    /// first reads it, after the application has mapped its endpoints: empty once <c>MapMetaConversions()</c> was called.
    /// </summary>
    public static void MapImplicitly(IEndpointRouteBuilder app, LibraryEndpointsMapping mapping)
    {
        if (!mapping.ClaimImplicit())
        {
            return; // a second UseMetaConversions()
        }

        var detached = new DetachedRouteBuilder(app);
        MapSnippet(detached).AllowAnonymous();
        MapBeacon(detached).AllowAnonymous();
        MapInspector(detached).AllowAnonymous();
        app.DataSources.Add(new ImplicitEndpointDataSource(new CompositeEndpointDataSource(detached.DataSources), mapping));
    }

    private static IEndpointConventionBuilder MapSnippet(IEndpointRouteBuilder endpoints)
    {
        var file = endpoints.ServiceProvider.GetRequiredService<SnippetFile>();
        var options = endpoints.ServiceProvider.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>();
        var snippet = new ConventionBuilders(endpoints.Map(SnippetFile.StablePath, file.ServeAsync), endpoints.Map(SnippetFile.HashedRoute, file.ServeAsync));
        return snippet
            .WithMetadata(new EndpointSwitch(_ => ValueTask.FromResult(options.CurrentValue.Enabled)))
            .ExcludeFromDescription()
            .WithDisplayName("Meta Conversions: the snippet");
    }

    private static IEndpointConventionBuilder MapBeacon(IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>();
        return endpoints.Map(PixelBeacon.Path, static context => context.RequestServices.GetRequiredService<PixelBeacon>().ServeAsync(context))
            .WithMetadata(new EndpointSwitch(_ => ValueTask.FromResult(options.CurrentValue is { Enabled: true, ReportPixelBlocking: true })))
            .ExcludeFromDescription()
            .WithDisplayName("Meta Conversions: the Pixel beacon");
    }

    private static IEndpointConventionBuilder MapInspector(IEndpointRouteBuilder endpoints)
    {
        // Resolved now, at start-up: it says in the log whether the inspector is on.
        var inspector = endpoints.ServiceProvider.GetRequiredService<InspectorEndpoints>();
        var group = endpoints.MapGroup(InspectorEndpoints.BasePath);
        foreach (var (path, serve) in inspector.Routes)
        {
            group.Map(path, serve).WithDisplayName("Meta Conversions: the inspector " + (path.Length == 0 ? "page" : path[1..]));
        }

        return group.WithMetadata(new EndpointSwitch(inspector.IsServedAsync)).ExcludeFromDescription();
    }

    /// <summary>Forwards conventions to several builders: one name for the two routes of the snippet, or for all.</summary>
    internal sealed class ConventionBuilders(params IEndpointConventionBuilder[] builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }

    /// <summary>A route builder of the application's services whose endpoints go to a data source of their own, not the application's.</summary>
    private sealed class DetachedRouteBuilder(IEndpointRouteBuilder app) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => app.ServiceProvider;

        public ICollection<EndpointDataSource> DataSources { get; } = [];

        public IApplicationBuilder CreateApplicationBuilder() => app.CreateApplicationBuilder();
    }

    /// <summary>The implicitly mapped endpoints, present until the application maps them itself.</summary>
    private sealed class ImplicitEndpointDataSource(EndpointDataSource endpoints, LibraryEndpointsMapping mapping) : EndpointDataSource
    {
        public override IReadOnlyList<Endpoint> Endpoints => mapping.MappedExplicitly ? [] : endpoints.Endpoints;

        public override Microsoft.Extensions.Primitives.IChangeToken GetChangeToken() => endpoints.GetChangeToken();
    }
}
