using CapiMiddleware.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>The names of the stores (<c>MetaConversions:Outbox:Provider</c>), and the choice of one at start-up.</summary>
internal static class OutboxProviders
{
    public const string Memory = "memory";
    public const string Sqlite = "sqlite";
    public const string Redis = "redis";

    /// <summary>The provider's canonical name, or <see langword="null"/> when it names no store.</summary>
    public static string? Normalize(string? provider) => provider?.Trim().ToLowerInvariant() switch
    {
        Memory => Memory,
        Sqlite => Sqlite,
        Redis => Redis,
        _ => null,
    };

    /// <summary>
    /// Creates the store the validated options name (a store of the application's own when one is registered);
    /// called once, by dependency injection.
    /// </summary>
    public static IOutboxStore Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>();
        var outbox = options.CurrentValue.Outbox;
        var time = services.GetRequiredService<TimeProvider>();
        var stale = services.GetRequiredService<StaleEntries>();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var registrations = services.GetServices<OutboxStoreRegistration>().ToList();

        if (OutboxStoreRegistration.Find(registrations, OutboxStoreRegistration.Custom) is { } custom)
        {
            // The library's staleness rule, which the built-in stores apply themselves, over a store that need not know it.
            IOutboxStore own = new AgeCheckedOutboxStore(custom.CreateStore(services), stale);
            return own.IsDurable ? WithFallback(own, own.GetType().Name) : own;
        }

        var provider = Normalize(outbox.Provider);
        if (provider is Sqlite or Redis)
        {
            // The options validator has said so at start already; this is for a store resolved without it.
            var registration = OutboxStoreRegistration.Find(registrations, provider)
                ?? throw new InvalidOperationException($"MetaConversions:Outbox:Provider is {provider}, but {OutboxStoreRegistration.HowToRegister(provider)}.");
            return WithFallback(registration.CreateStore(services), provider);
        }

        return new MemoryOutboxStore(options, time, stale);

        // A durable store can fail or stall (Redis unreachable, a full disk): requests wait for it at most the
        // budget, and the memory store keeps what it did not take until it takes events again.
        IOutboxStore WithFallback(IOutboxStore store, string name) => new FallbackOutboxStore(
            store,
            name,
            Fallback(store),
            outbox.FallbackPath is null ? Memory : "sqlite file",
            outbox.EnqueueBudget,
            new StoreBreaker(outbox.StoreFailureThreshold, outbox.StoreBreakDuration, time),
            time,
            services.GetRequiredService<ConversionMetrics>(),
            loggers.CreateLogger<FallbackOutboxStore>());

        IOutboxStore Fallback(IOutboxStore store)
        {
            if (outbox.FallbackPath is not { } path)
            {
                return new MemoryOutboxStore(options, time, stale);
            }

            try
            {
                var file = OutboxStoreRegistration.Find(registrations, Sqlite)?.OpenFallbackFile
                    ?? throw new InvalidOperationException(
                        $"MetaConversions:Outbox:FallbackPath is an SQLite file, but {OutboxStoreRegistration.HowToRegister(Sqlite)}.");
                return file(services, path);
            }
            catch (InvalidOperationException)
            {
                (store as IAsyncDisposable)?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        }
    }
}
