namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// A store of the application's own (<c>AddOutboxStore</c>) with the library's staleness rule on top: what it leases
/// too old for Meta is dead-lettered through it (<see cref="StaleEntries"/>), as the built-in stores do themselves.
/// Everything else goes to the store as it is.
/// </summary>
internal sealed class AgeCheckedOutboxStore(IOutboxStore store, StaleEntries stale) : IOutboxStore, IAsyncDisposable
{
    public bool IsDurable => store.IsDurable;

    public ValueTask<long> CountAsync(CancellationToken cancellationToken) => store.CountAsync(cancellationToken);

    public ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken) => store.EnqueueAsync(entry, cancellationToken);

    public ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken) => store.WaitForEntriesAsync(cancellationToken);

    public async ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken)
    {
        var leased = await store.LeaseAsync(maxCount, linger, cancellationToken).ConfigureAwait(false);
        if (leased.Count == 0)
        {
            return leased;
        }

        var batch = new List<OutboxEntry>(leased);
        await stale.DropAsync(batch, store.DeadLetterAsync).ConfigureAwait(false);
        return batch;
    }

    public ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken) =>
        store.AcknowledgeAsync(entries, cancellationToken);

    public ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken) =>
        store.RetryLaterAsync(entries, delay, cancellationToken);

    public ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken) =>
        store.DeadLetterAsync(entries, reason, cancellationToken);

    public ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken) =>
        store.GetRecentDeadLettersAsync(maxCount, cancellationToken);

    public ValueTask DisposeAsync()
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                return asyncDisposable.DisposeAsync();
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }

        return ValueTask.CompletedTask;
    }
}
