namespace CapiMiddleware.Records;

/// <summary>A record that a <see cref="IKeptRecords{T}"/> keeps: it says when it was kept, on the caller's clock.</summary>
internal interface IKeptRecord
{
    /// <summary>When the record was kept; a save sweeps records expired at that moment (stores have no clock of their own).</summary>
    DateTimeOffset KeptAt { get; }
}

/// <summary>
/// Records kept under a key until they expire, beside the outbox: in memory, in the <c>sqlite</c> outbox's file, or in
/// the <c>redis</c> outbox's Redis. What the payment webhook joins (<see cref="Identity.CapturedIdentity"/>) and what a
/// follow-up value refers to (the events sent) are kept this way, each in a set of its own
/// (<see cref="KeptRecordSet{T}"/>).
/// </summary>
/// <typeparam name="T">The record.</typeparam>
internal interface IKeptRecords<T>
    where T : class, IKeptRecord
{
    /// <summary>Keeps <paramref name="record"/> under <paramref name="key"/> until <paramref name="expiresAt"/>, replacing one kept under the same key.</summary>
    /// <remarks>A save also sweeps a bounded number of records expired at <see cref="IKeptRecord.KeptAt"/>.</remarks>
    ValueTask SaveAsync(string key, T record, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Takes the record kept under <paramref name="key"/> and deletes it (used once); null when unknown or expired at <paramref name="now"/>.</summary>
    ValueTask<T?> TakeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Reads the record kept under <paramref name="key"/> and keeps it; null when unknown or expired at <paramref name="now"/>.</summary>
    ValueTask<T?> FindAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>How many records are kept now (expired ones may be counted until they are swept); -1 where the set is not counted (<see cref="KeptRecordSet{T}.Counted"/>).</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken);
}
