using CapiMiddleware;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Outbox.Sqlite;
using CapiMiddleware.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SQLite outbox of the Meta Conversions API integration.</summary>
public static class SqliteOutboxServiceCollectionExtensions
{
    /// <summary>
    /// Makes the SQLite store available to <c>AddMetaConversions</c>: <c>MetaConversions:Outbox:Provider</c> =
    /// <c>sqlite</c> keeps queued events (and the captured identities of payment webhooks) in the file
    /// <c>MetaConversions:Outbox:Path</c>, and <c>MetaConversions:Outbox:FallbackPath</c> can keep in a file what
    /// <c>sqlite</c> or <c>redis</c> did not take. The configuration still chooses the store: with <c>memory</c> this
    /// registration changes nothing.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddSqliteOutbox(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(new OutboxStoreRegistration
        {
            Provider = OutboxProviders.Sqlite,
            CreateStore = sp => Open(sp, Outbox(sp).Path!),
            KeptRecords = new KeptInFile(),
            OpenFallbackFile = OpenFallbackFile,
        });
        return services;
    }

    private static OutboxOptions Outbox(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue.Outbox;

    private static SqliteOutboxStore Open(IServiceProvider services, string path) => SqliteOutboxStore.Open(
        path,
        Outbox(services).LeaseTimeout,
        services.GetRequiredService<TimeProvider>(),
        services.GetRequiredService<StaleEntries>(),
        services.GetRequiredService<ILoggerFactory>().CreateLogger<SqliteOutboxStore>());

    private static IOutboxStore OpenFallbackFile(IServiceProvider services, string path)
    {
        try
        {
            return Open(services, path);
        }
        catch (InvalidOperationException ex)
        {
            // The file that failed is the fallback's: name its setting.
            throw new InvalidOperationException(ex.Message.Replace("MetaConversions:Outbox:Path", "MetaConversions:Outbox:FallbackPath", StringComparison.Ordinal), ex);
        }
    }

    /// <summary>Identities and sent events in tables of the outbox's file.</summary>
    private sealed class KeptInFile : IKeptRecordsFactory
    {
        public IKeptRecords<T> Open<T>(IServiceProvider services, KeptRecordSet<T> set)
            where T : class, IKeptRecord => SqliteKeptRecords<T>.Open(Outbox(services).Path!, set);
    }
}
