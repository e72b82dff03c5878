using CapiMiddleware.Outbox.Testing;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>
/// A store of an application's own, written against the public API only (<see cref="IOutboxStore"/>,
/// <see cref="OutboxEntry"/>, <see cref="DeadLetter"/>) as a third party would write one: a list under a lock. What
/// <c>AddOutboxStore</c> is tested with, and the proof that the public contract can be run from outside the library.
/// </summary>
public sealed class ListOutboxStore(TimeProvider time, bool durable = false) : IOutboxStore
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    private readonly Lock _lock = new();
    private readonly List<Held> _entries = [];
    private readonly List<DeadLetter> _dead = [];
    private TaskCompletionSource _enqueued = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsDurable => durable;

    public ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult((long)_entries.Count);
        }
    }

    public ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _entries.Add(new Held(entry) { DueAt = DateTimeOffset.MinValue });
            _enqueued.TrySetResult(); // wakes a waiting lease at once: the next poll may be far off on the store's clock
            _enqueued = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return ValueTask.FromResult(true);
    }

    public async ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task enqueued;
            lock (_lock)
            {
                var now = time.GetUtcNow();
                if (_entries.Any(h => !h.Leased && h.DueAt <= now))
                {
                    return true;
                }

                enqueued = _enqueued.Task;
            }

            await Task.WhenAny(enqueued, Task.Delay(Poll, time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public async ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken)
    {
        var batch = new List<OutboxEntry>();
        var deadline = time.GetUtcNow() + linger;
        while (true)
        {
            Task enqueued;
            lock (_lock)
            {
                enqueued = _enqueued.Task;
                var now = time.GetUtcNow();
                foreach (var held in _entries.Where(h => !h.Leased && h.DueAt <= now).Take(maxCount - batch.Count).ToList())
                {
                    held.Leased = true;
                    batch.Add(held.Entry);
                }
            }

            if (batch.Count >= maxCount || time.GetUtcNow() >= deadline || cancellationToken.IsCancellationRequested)
            {
                return batch;
            }

            var left = deadline - time.GetUtcNow();
            await Task.WhenAny(enqueued, Task.Delay(left < Poll ? left : Poll, time, CancellationToken.None));
        }
    }

    public ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _entries.RemoveAll(h => h.Leased && entries.Contains(h.Entry));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var dueAt = time.GetUtcNow() + (delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
            foreach (var held in _entries.Where(h => h.Leased && entries.Contains(h.Entry)))
            {
                held.Leased = false;
                held.DueAt = dueAt;
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var at = time.GetUtcNow();
            foreach (var held in _entries.Where(h => h.Leased && entries.Contains(h.Entry)).ToList())
            {
                _entries.Remove(held);
                _dead.Add(new DeadLetter(held.Entry.PixelId, held.Entry.EventName, held.Entry.EventId, reason, at));
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult<IReadOnlyList<DeadLetter>>(_dead.TakeLast(maxCount).ToList());
        }
    }

    private sealed class Held(OutboxEntry entry)
    {
        public OutboxEntry Entry { get; } = entry;

        public bool Leased { get; set; }

        public DateTimeOffset DueAt { get; set; }
    }
}

/// <summary>The public contract, run from outside the library against <see cref="ListOutboxStore"/>.</summary>
public sealed class ListOutboxStoreTests : OutboxStoreContract
{
    protected override IOutboxStore CreateStore(TimeProvider time) => new ListOutboxStore(time);
}
