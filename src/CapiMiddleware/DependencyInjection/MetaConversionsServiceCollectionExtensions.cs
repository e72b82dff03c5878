using CapiMiddleware;
using CapiMiddleware.Context;
using CapiMiddleware.DependencyInjection;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Identity;
using CapiMiddleware.Mvc;
using CapiMiddleware.FollowUps;
using CapiMiddleware.Inspector;
using CapiMiddleware.Records;
using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Meta Conversions API integration.</summary>
public static class MetaConversionsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Meta Conversions API services, with options bound from the <c>MetaConversions</c> configuration section.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddMetaConversions(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<MetaConversionsOptions>().BindConfiguration(MetaConversionsOptions.SectionName);
        return services.AddMetaConversionsCore();
    }

    /// <summary>Adds the Meta Conversions API services, with options bound from <paramref name="configuration"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section, usually <c>builder.Configuration.GetSection("MetaConversions")</c>.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddMetaConversions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MetaConversionsOptions>().Bind(configuration); // also reloads on configuration change
        return services.AddMetaConversionsCore();
    }

    /// <summary>Adds the Meta Conversions API services, with options set in code.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddMetaConversions(this IServiceCollection services, Action<MetaConversionsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<MetaConversionsOptions>().Configure(configure);
        return services.AddMetaConversionsCore();
    }

    private static IServiceCollection AddMetaConversionsCore(this IServiceCollection services)
    {
        services.AddOptions<MetaConversionsOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MetaConversionsOptions>, MetaConversionsOptionsValidator>());
        if (services.Any(d => d.ServiceType == typeof(ConversionRecorder)))
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddDataProtection();
        services.AddHttpClient(GraphApiClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);

        services.TryAddSingleton<SnippetFile>();
        services.TryAddSingleton<StaleEntries>();
        services.TryAddSingleton(OutboxProviders.Create);
        services.TryAddSingleton(sp => KeptRecordStores.Create(
            sp, CapturedIdentity.Set, sp.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue.Identities.Capacity,
            sp.GetRequiredService<ConversionMetrics>().IdentitiesEvicted));
        services.TryAddSingleton(sp => KeptRecordStores.Create(
            sp, SentEvent.Set, sp.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue.FollowUps.Capacity,
            sp.GetRequiredService<ConversionMetrics>().FollowUpsEvicted));
        services.TryAddSingleton<SentEvents>();
        services.TryAddSingleton<ConversionQueue>();
        services.TryAddSingleton<IConversionQueue>(sp => sp.GetRequiredService<ConversionQueue>());
        services.TryAddSingleton<GraphApiClient>();
        services.TryAddSingleton<LogOnlyTransport>();
        services.TryAddSingleton<PendingPixelEvents>();
        services.TryAddSingleton<TrackingConsent>();
        services.TryAddSingleton<ConversionRecorder>();
        services.TryAddSingleton<MatchDiagnostics>();
        services.TryAddSingleton<ConversionMetrics>();
        services.TryAddSingleton<QueueDepth>();
        services.TryAddSingleton<DeliveryHealth>();
        services.TryAddSingleton<DeliveryTelemetry>();
        services.TryAddSingleton<MetaConversionsHealthCheck>();
        services.TryAddSingleton<RecentEvents>();
        services.TryAddSingleton<PixelReach>();
        services.TryAddSingleton<PixelBeacon>();
        services.TryAddSingleton<DeclaredEvents>();
        services.TryAddSingleton<BrowserEvents>();
        services.TryAddSingleton<InspectorEndpoints>();
        services.TryAddSingleton<LibraryEndpointsMapping>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, EndpointSwitchPolicy>());
        services.TryAddSingleton<CapiMiddleware.Identity.CapturedIdentities>();
        services.AddHostedService<CapiMiddleware.Hosting.LibraryWarmUp>();
        services.AddHostedService<OutboxSender>();

        // Meta's Dataset Quality figures, fetched on a schedule while MetaConversions:DatasetQuality:Enabled is on.
        services.TryAddSingleton<CapiMiddleware.DatasetQuality.DatasetQualityClient>();
        services.TryAddSingleton<CapiMiddleware.DatasetQuality.DatasetQualityReports>();
        services.TryAddSingleton<CapiMiddleware.DatasetQuality.LocalMatchQuality>();
        services.AddHostedService<CapiMiddleware.DatasetQuality.DatasetQualityFetcher>();

        // The pipeline's observers (IConversionObserver), told through ConversionObservers of what becomes of each event.
        services.TryAddSingleton<ConversionLog>();
        services.TryAddSingleton<ConversionObservers>();
        services.AddSingleton<IConversionObserver>(sp => sp.GetRequiredService<ConversionMetrics>());
        services.AddSingleton<IConversionObserver>(sp => sp.GetRequiredService<ConversionLog>());
        services.AddSingleton<IConversionObserver>(sp => sp.GetRequiredService<MatchDiagnostics>());
        services.AddSingleton<IConversionObserver>(sp => sp.GetRequiredService<PixelReach>());
        services.AddSingleton<IConversionObserver>(sp => sp.GetRequiredService<RecentEvents>());
        services.AddSingleton<IConversionObserver>(sp => sp.GetRequiredService<CapiMiddleware.DatasetQuality.LocalMatchQuality>());

        // Razor Pages read the attribute through a page convention; apps without Razor Pages never resolve these options.
        services.Configure<RazorPagesOptions>(o => o.Conventions.Add(new MetaConversionPageConvention()));
        return services;
    }
}
