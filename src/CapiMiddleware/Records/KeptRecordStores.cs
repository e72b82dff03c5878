using CapiMiddleware.Dispatch.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Records;

/// <summary>Opens the records of one set beside the outbox: how a store package keeps them (in its file, its Redis).</summary>
internal interface IKeptRecordsFactory
{
    /// <summary>Opens <paramref name="set"/> in the store the validated options describe; called once per set, at start-up.</summary>
    IKeptRecords<T> Open<T>(IServiceProvider services, KeptRecordSet<T> set)
        where T : class, IKeptRecord;
}

/// <summary>
/// The choice of where kept records live, at start-up: the outbox's kind (<c>MetaConversions:Outbox:Provider</c>), from
/// the store package registered for it. Beside the <c>memory</c> outbox or a store of the application's own, they stay
/// in memory.
/// </summary>
internal static class KeptRecordStores
{
    /// <summary>Creates the records of <paramref name="set"/> where the validated options say; called once, by dependency injection.</summary>
    /// <param name="services">The services.</param>
    /// <param name="set">The set.</param>
    /// <param name="capacity">How many the memory store keeps at most.</param>
    /// <param name="evicted">Told how many unexpired records the memory store dropped to make room.</param>
    public static IKeptRecords<T> Create<T>(IServiceProvider services, KeptRecordSet<T> set, int capacity, Action<int>? evicted)
        where T : class, IKeptRecord
    {
        var options = services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue;
        var registrations = services.GetServices<OutboxStoreRegistration>().ToList();
        var provider = OutboxProviders.Normalize(options.Outbox.Provider);
        if (OutboxStoreRegistration.Find(registrations, OutboxStoreRegistration.Custom) is null
            && provider is OutboxProviders.Sqlite or OutboxProviders.Redis
            && OutboxStoreRegistration.Find(registrations, provider)?.KeptRecords is { } factory)
        {
            return factory.Open(services, set);
        }

        return new MemoryKeptRecords<T>(capacity, evicted);
    }
}
