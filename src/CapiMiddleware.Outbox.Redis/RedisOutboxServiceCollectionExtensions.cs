using CapiMiddleware;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Outbox.Redis;
using CapiMiddleware.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis outbox of the Meta Conversions API integration.</summary>
public static class RedisOutboxServiceCollectionExtensions
{
    /// <summary>
    /// Makes the Redis store available to <c>AddMetaConversions</c>: <c>MetaConversions:Outbox:Provider</c> =
    /// <c>redis</c> keeps queued events (and the captured identities of payment webhooks) in the Redis of
    /// <c>MetaConversions:Outbox:Redis</c>, under <c>MetaConversions:Outbox:RedisKeyPrefix</c>, shared by the nodes of a
    /// web farm. The configuration still chooses the store: with <c>memory</c> this registration changes nothing.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddRedisOutbox(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(new OutboxStoreRegistration
        {
            Provider = OutboxProviders.Redis,
            CreateStore = Connect,
            KeptRecords = new KeptInRedis(),
            Validate = Validate,
        });
        return services;
    }

    private static OutboxOptions Outbox(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue.Outbox;

    private static RedisOutboxStore Connect(IServiceProvider services)
    {
        var outbox = Outbox(services);
        return RedisOutboxStore.Connect(
            outbox.Redis!,
            outbox.RedisKeyPrefix,
            outbox.LeaseTimeout,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<StaleEntries>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger<RedisOutboxStore>());
    }

    private static void Validate(OutboxOptions outbox, List<string> failures)
    {
        if (!string.IsNullOrWhiteSpace(outbox.Redis) && !IsConnectionString(outbox.Redis))
        {
            // The string may hold a password: say what is wrong with it, never repeat it.
            failures.Add("MetaConversions:Outbox:Redis is not a StackExchange.Redis connection string with at least one host, such as redis.internal:6379,password=...");
        }
    }

    private static bool IsConnectionString(string value)
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

    /// <summary>Identities and sent events in the outbox's Redis, under its key prefix.</summary>
    private sealed class KeptInRedis : IKeptRecordsFactory
    {
        public IKeptRecords<T> Open<T>(IServiceProvider services, KeptRecordSet<T> set)
            where T : class, IKeptRecord => RedisKeptRecords<T>.Connect(Outbox(services).Redis!, Outbox(services).RedisKeyPrefix, set);
    }
}
