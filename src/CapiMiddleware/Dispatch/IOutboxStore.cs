namespace CapiMiddleware;

/// <summary>
/// Where events wait between "accepted" and "Meta answered 200": the only part that differs between stores, as the
/// sender above it is written once. The library ships a memory store; <c>CapiMiddleware.Outbox.Sqlite</c> and
/// <c>CapiMiddleware.Outbox.Redis</c> add durable ones, and an application registers a store of its own with
/// <c>services.AddOutboxStore&lt;TStore&gt;()</c>. An entry leaves the store only when acknowledged or dead-lettered.
/// </summary>
/// <remarks>
/// <para>
/// The library calls a store from many requests at once (<see cref="EnqueueAsync"/>) and from one sender
/// (everything else), so every member must be safe to call concurrently. A leased entry belongs to the process that
/// leased it until it is acknowledged, retried or dead-lettered; the sender settles each leased entry with the same
/// <see cref="OutboxEntry"/> instance the store returned. A durable store shared by several processes keeps renewing
/// the leases its live process holds; when a process vanishes, its leases run out after the lease time-out
/// (<c>MetaConversions:Outbox:LeaseTimeout</c>) and its entries can be leased again, by another node or by the same
/// application after a restart.
/// </para>
/// <para>
/// A store need not judge an entry's age: the library dead-letters the entries Meta would refuse as too old when they
/// are leased, through <see cref="DeadLetterAsync"/>. A store that implements <see cref="IAsyncDisposable"/> or
/// <see cref="IDisposable"/> is disposed when the application stops. The package <c>CapiMiddleware.Outbox.Testing</c>
/// holds the tests every store must pass (<c>OutboxStoreContract</c>).
/// </para>
/// </remarks>
public interface IOutboxStore
{
    /// <summary>
    /// Whether entries survive a restart of the process. A durable store gets the library's fallback in front of it:
    /// a request waits for it at most <c>MetaConversions:Outbox:EnqueueBudget</c>, and what it refuses or answers late
    /// waits in memory (or in the SQLite file <c>MetaConversions:Outbox:FallbackPath</c>) until it takes events again.
    /// </summary>
    bool IsDurable { get; }

    /// <summary>How many entries the store holds: waiting, leased, or waiting to be retried (not dead letters).</summary>
    /// <param name="cancellationToken">Cancels the count.</param>
    /// <returns>The number of entries held.</returns>
    ValueTask<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Adds an entry; <see langword="false"/> when the store is full (the entry is dropped, the caller says so). A
    /// durable store completes only once the entry is stored (on disk, in Redis), and throws when it cannot be stored.
    /// </summary>
    /// <param name="entry">The entry; the store keeps every field of it, <see cref="OutboxEntry.Payload"/> byte for byte.</param>
    /// <param name="cancellationToken">Cancels the wait; a durable store may complete the write anyway.</param>
    /// <returns><see langword="true"/> when the entry is stored.</returns>
    ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken);

    /// <summary>
    /// Completes when at least one entry can be leased (including one whose retry or lease time has come);
    /// <see langword="false"/> when the store is closed.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait (the host is stopping).</param>
    /// <returns><see langword="true"/> when an entry can be leased, <see langword="false"/> when the store is closed.</returns>
    ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Leases up to <paramref name="maxCount"/> entries, oldest first: returns as soon as that many are available, or
    /// when <paramref name="linger"/> has passed, with what there is (possibly none). An entry leased here is not
    /// leased again until it is retried, or its process's lease runs out.
    /// </summary>
    /// <param name="maxCount">The most entries to return (the batch size, at most 1,000).</param>
    /// <param name="linger">How long to wait for a full batch; <see cref="TimeSpan.Zero"/> returns at once.</param>
    /// <param name="cancellationToken">Ends the wait; the store then returns what it has leased so far.</param>
    /// <returns>The leased entries, each with its <see cref="OutboxEntry.FailedAttempts"/>.</returns>
    ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken);

    /// <summary>Meta accepted these leased entries: they leave the store.</summary>
    /// <param name="entries">Entries this store leased; one this process no longer holds is skipped.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the entries are gone.</returns>
    ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken);

    /// <summary>
    /// A temporary failure: lease these again after <paramref name="delay"/>. Their
    /// <see cref="OutboxEntry.FailedAttempts"/> is kept with them.
    /// </summary>
    /// <param name="entries">Entries this store leased; one this process no longer holds is skipped.</param>
    /// <param name="delay">How long to keep them from being leased; <see cref="TimeSpan.Zero"/> or less: at once.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the entries wait for their retry.</returns>
    ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>Meta rejected these for good: they leave the queue for the dead-letter list, with the reason.</summary>
    /// <param name="entries">Entries this store leased; one this process no longer holds is skipped.</param>
    /// <param name="reason">Why, for the site owner (Meta's message, or the library's).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the entries are dead letters.</returns>
    ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken);

    /// <summary>The latest dead letters, at most <paramref name="maxCount"/>, newest last, for the site owner to see.</summary>
    /// <param name="maxCount">The most dead letters to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The dead letters, newest last. A store may keep a bounded history.</returns>
    ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken);
}

/// <summary>An event Meta rejected for good (or that grew too old to send), and why.</summary>
/// <param name="PixelId">The pixel (dataset) the event was for.</param>
/// <param name="EventName">The event's name, such as <c>Purchase</c>.</param>
/// <param name="EventId">The event's ID, shared with the Pixel's copy.</param>
/// <param name="Reason">Why it was not sent.</param>
/// <param name="At">When it became a dead letter.</param>
public sealed record DeadLetter(string PixelId, string EventName, string EventId, string Reason, DateTimeOffset At);
