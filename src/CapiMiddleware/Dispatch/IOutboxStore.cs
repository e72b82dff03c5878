namespace CapiMiddleware.Dispatch;

/// <summary>
/// Where events wait between "accepted" and "Meta answered 200". The only part that differs between stores; the
/// sender above it is written once. An entry leaves the store only when acknowledged or dead-lettered.
/// </summary>
/// <remarks>
/// A leased entry belongs to the process that leased it until it is acknowledged, retried or dead-lettered. A durable
/// store keeps renewing the leases its live process holds; when a process vanishes, its leases run out after the
/// lease time-out (<c>MetaConversions:Outbox:LeaseTimeout</c>) and its entries can be leased again, by another node
/// or by the same application after a restart.
/// </remarks>
internal interface IOutboxStore
{
    /// <summary>Whether entries survive a restart of the process.</summary>
    bool IsDurable { get; }

    /// <summary>How many entries the store holds: waiting, leased, or waiting to be retried (not dead letters).</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Adds an entry; <see langword="false"/> when the store is full (the entry is dropped, the caller says so). A
    /// durable store completes only once the entry is on disk (or in Redis), and throws when it cannot be stored.
    /// </summary>
    ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken);

    /// <summary>Completes when at least one entry can be leased; <see langword="false"/> when the store is closed.</summary>
    ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Leases up to <paramref name="maxCount"/> entries: returns as soon as that many are available, or when
    /// <paramref name="linger"/> has passed, with what there is (possibly none). Entries too old for Meta are
    /// dead-lettered here, with a logged and counted reason, and never returned.
    /// </summary>
    ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken);

    /// <summary>Meta accepted these: they leave the store.</summary>
    ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken);

    /// <summary>
    /// A temporary failure: lease these again after <paramref name="delay"/>. Their
    /// <see cref="OutboxEntry.FailedAttempts"/> is kept with them.
    /// </summary>
    ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>Meta rejected these for good: they leave the queue for the dead-letter list, with the reason.</summary>
    ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken);

    /// <summary>The latest dead letters, at most <paramref name="maxCount"/>, newest last, for the site owner to see.</summary>
    ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken);
}

/// <summary>An event Meta rejected for good (or that grew too old to send), and why.</summary>
internal sealed record DeadLetter(string PixelId, string EventName, string EventId, string Reason, DateTimeOffset At);
