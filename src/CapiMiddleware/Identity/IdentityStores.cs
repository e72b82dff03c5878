using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Identity;

/// <summary>The choice of the identity store at start-up: the outbox's kind (<c>MetaConversions:Outbox:Provider</c>).</summary>
internal static class IdentityStores
{
    /// <summary>Creates the store the validated options name; called once, by dependency injection.</summary>
    public static IIdentityStore Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue;
        var metrics = services.GetRequiredService<ConversionMetrics>();
        return OutboxProviders.Normalize(options.Outbox.Provider) switch
        {
            OutboxProviders.Sqlite => SqliteIdentityStore.Open(options.Outbox.Path!),
            OutboxProviders.Redis => RedisIdentityStore.Connect(options.Outbox.Redis!, options.Outbox.RedisKeyPrefix),
            _ => new MemoryIdentityStore(options.Identities.Capacity, metrics.IdentitiesEvicted),
        };
    }
}
