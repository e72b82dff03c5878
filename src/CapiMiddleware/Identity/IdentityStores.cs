using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Identity;

/// <summary>
/// The choice of the identity store at start-up: the outbox's kind (<c>MetaConversions:Outbox:Provider</c>), from the
/// store package registered for it. Beside a store of the application's own, identities stay in memory.
/// </summary>
internal static class IdentityStores
{
    /// <summary>Creates the store the validated options name; called once, by dependency injection.</summary>
    public static IIdentityStore Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue;
        var metrics = services.GetRequiredService<ConversionMetrics>();
        var registrations = services.GetServices<OutboxStoreRegistration>().ToList();
        var provider = OutboxProviders.Normalize(options.Outbox.Provider);
        if (OutboxStoreRegistration.Find(registrations, OutboxStoreRegistration.Custom) is null
            && provider is OutboxProviders.Sqlite or OutboxProviders.Redis
            && OutboxStoreRegistration.Find(registrations, provider)?.CreateIdentityStore is { } create)
        {
            return create(services);
        }

        return new MemoryIdentityStore(options.Identities.Capacity, metrics.IdentitiesEvicted);
    }
}
