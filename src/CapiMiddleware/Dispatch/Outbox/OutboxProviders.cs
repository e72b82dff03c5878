using CapiMiddleware.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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

    public static bool IsRedisConnectionString(string value)
    {
        try
        {
            return ConfigurationOptions.Parse(value).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Creates the store the validated options name; called once, by dependency injection.</summary>
    public static IOutboxStore Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>();
        var outbox = options.CurrentValue.Outbox;
        var time = services.GetRequiredService<TimeProvider>();
        var stale = services.GetRequiredService<StaleEntries>();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        return Normalize(outbox.Provider) switch
        {
            Sqlite => WithFallback(SqliteOutboxStore.Open(outbox.Path!, outbox.LeaseTimeout, time, stale, loggers.CreateLogger<SqliteOutboxStore>()), Sqlite),
            Redis => WithFallback(RedisOutboxStore.Connect(outbox.Redis!, outbox.RedisKeyPrefix, outbox.LeaseTimeout, time, stale, loggers.CreateLogger<RedisOutboxStore>()), Redis),
            _ => new MemoryOutboxStore(options, time, stale),
        };

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
                return SqliteOutboxStore.Open(path, outbox.LeaseTimeout, time, stale, loggers.CreateLogger<SqliteOutboxStore>());
            }
            catch (InvalidOperationException ex)
            {
                (store as IAsyncDisposable)?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw new InvalidOperationException(ex.Message.Replace("MetaConversions:Outbox:Path", "MetaConversions:Outbox:FallbackPath", StringComparison.Ordinal), ex);
            }
        }
    }
}
