using System.Diagnostics.CodeAnalysis;
using CapiMiddleware;
using CapiMiddleware.Dispatch.Outbox;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers an outbox store of the application's own, in place of <c>MetaConversions:Outbox:Provider</c>'s.</summary>
public static class OutboxStoreServiceCollectionExtensions
{
    /// <summary>
    /// Keeps queued events in <typeparamref name="TStore"/>, created once at start-up with its constructor's services
    /// (the options are <c>IOptionsMonitor&lt;MetaConversionsOptions&gt;</c>). <c>MetaConversions:Outbox:Provider</c>
    /// must then stay <c>memory</c>, its default; the captured identities of payment webhooks stay in memory.
    /// </summary>
    /// <remarks>
    /// The library applies its own rules around the store: entries too old for Meta are dead-lettered as they are
    /// leased, and a durable store (<see cref="IOutboxStore.IsDurable"/>) gets the fallback of
    /// <c>MetaConversions:Outbox:EnqueueBudget</c> and <c>FallbackPath</c> in front of it, as the SQLite and Redis
    /// stores do. Run the tests of the package <c>CapiMiddleware.Outbox.Testing</c> against the store.
    /// </remarks>
    /// <typeparam name="TStore">The store.</typeparam>
    /// <param name="services">The services.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddOutboxStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>(this IServiceCollection services)
        where TStore : class, IOutboxStore
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddOutboxStore(sp => ActivatorUtilities.CreateInstance<TStore>(sp));
    }

    /// <summary>
    /// Keeps queued events in the store <paramref name="createStore"/> returns, called once at start-up.
    /// <c>MetaConversions:Outbox:Provider</c> must then stay <c>memory</c>, its default; the captured identities of
    /// payment webhooks stay in memory.
    /// </summary>
    /// <remarks>
    /// The library applies its own rules around the store: entries too old for Meta are dead-lettered as they are
    /// leased, and a durable store (<see cref="IOutboxStore.IsDurable"/>) gets the fallback of
    /// <c>MetaConversions:Outbox:EnqueueBudget</c> and <c>FallbackPath</c> in front of it. The library disposes the
    /// store when the application stops. Registered twice, the last registration wins.
    /// </remarks>
    /// <param name="services">The services.</param>
    /// <param name="createStore">Creates the store from the application's services.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddOutboxStore(this IServiceCollection services, Func<IServiceProvider, IOutboxStore> createStore)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(createStore);
        services.AddSingleton(new OutboxStoreRegistration { Provider = OutboxStoreRegistration.Custom, CreateStore = createStore });
        return services;
    }
}
