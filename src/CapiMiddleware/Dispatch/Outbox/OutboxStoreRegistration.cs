using CapiMiddleware.Records;

namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// A store that a package (<c>AddSqliteOutbox</c>, <c>AddRedisOutbox</c>) or the application (<c>AddOutboxStore</c>)
/// added to the services: what <see cref="OutboxProviders"/> and <see cref="KeptRecordStores"/> choose from at start-up.
/// The core names no store but memory; each package brings its own driver.
/// </summary>
internal sealed class OutboxStoreRegistration
{
    /// <summary>The provider name for a store of the application's own (<c>AddOutboxStore</c>).</summary>
    public const string Custom = "custom";

    /// <summary><see cref="OutboxProviders.Sqlite"/>, <see cref="OutboxProviders.Redis"/> or <see cref="Custom"/>.</summary>
    public required string Provider { get; init; }

    /// <summary>Opens the store the validated options describe; called once, at start-up.</summary>
    public required Func<IServiceProvider, IOutboxStore> CreateStore { get; init; }

    /// <summary>Keeps records beside the outbox (identities, sent events; in its file, its Redis); <see langword="null"/>: memory.</summary>
    public IKeptRecordsFactory? KeptRecords { get; init; }

    /// <summary>Opens an outbox file at a path, for <c>MetaConversions:Outbox:FallbackPath</c> (SQLite's only).</summary>
    public Func<IServiceProvider, string, IOutboxStore>? OpenFallbackFile { get; init; }

    /// <summary>The package's own checks of <c>MetaConversions:Outbox</c> (such as Redis's connection string), when it is the provider.</summary>
    public Action<OutboxOptions, List<string>>? Validate { get; init; }

    /// <summary>The registration for <paramref name="provider"/>, the last one added winning; <see langword="null"/> when none.</summary>
    public static OutboxStoreRegistration? Find(IEnumerable<OutboxStoreRegistration> registrations, string provider) =>
        registrations.LastOrDefault(r => r.Provider == provider);

    /// <summary>What to add, and which call to make, to use <paramref name="provider"/>: for the start-up error.</summary>
    public static string HowToRegister(string provider) => provider switch
    {
        OutboxProviders.Sqlite => "the SQLite store is not registered: add the package CapiMiddleware.Outbox.Sqlite and call builder.Services.AddSqliteOutbox()",
        _ => "the Redis store is not registered: add the package CapiMiddleware.Outbox.Redis and call builder.Services.AddRedisOutbox()",
    };
}
