using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// The default store: a bounded in-memory queue. Fast, and lost when the process ends: what is still queued at
/// shutdown is counted in the log. <c>MetaConversions:QueueCapacity</c> counts everything it holds, retries included.
/// </summary>
internal sealed class MemoryOutboxStore : IOutboxStore
{
    private const int DeadLetterHistory = 100;

    private readonly Channel<OutboxEntry> _channel = Channel.CreateUnbounded<OutboxEntry>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly StaleEntries _stale;
    private readonly Queue<DeadLetter> _deadLetters = new();
    private long _count;

    public MemoryOutboxStore(IOptionsMonitor<MetaConversionsOptions> options, TimeProvider time, StaleEntries stale)
    {
        _options = options;
        _time = time;
        _stale = stale;
    }

    public bool IsDurable => false;

    public ValueTask<long> CountAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Interlocked.Read(ref _count));

    public ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        // The bound counts everything held, retries included, so memory stays flat through a long outage.
        if (Interlocked.Increment(ref _count) > _options.CurrentValue.QueueCapacity)
        {
            Interlocked.Decrement(ref _count);
            return ValueTask.FromResult(false);
        }

        _channel.Writer.TryWrite(entry);
        return ValueTask.FromResult(true);
    }

    public ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken) =>
        _channel.Reader.WaitToReadAsync(cancellationToken);

    public async ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken)
    {
        var reader = _channel.Reader;
        var batch = new List<OutboxEntry>(Math.Min(maxCount, 64));
        Drain(reader, batch, maxCount);
        if (batch.Count < maxCount && linger > TimeSpan.Zero)
        {
            using var lingerTimeout = new CancellationTokenSource(linger, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(lingerTimeout.Token, cancellationToken);
            try
            {
                while (batch.Count < maxCount && await reader.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                {
                    Drain(reader, batch, maxCount);
                }
            }
            catch (OperationCanceledException)
            {
                // Lingering ended (or the host is stopping): send what there is.
            }
        }

        await _stale.DropAsync(batch, DeadLetterAsync).ConfigureAwait(false);

        return batch;
    }

    public ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _count, -entries.Count);
        return ValueTask.CompletedTask;
    }

    public ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            Requeue(entries);
        }
        else
        {
            _ = RequeueAfterAsync(entries, delay);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _count, -entries.Count);
        var now = _time.GetUtcNow();
        lock (_deadLetters)
        {
            foreach (var entry in entries)
            {
                _deadLetters.Enqueue(new DeadLetter(entry.PixelId, entry.EventName, entry.EventId, reason, now));
                if (_deadLetters.Count > DeadLetterHistory)
                {
                    _deadLetters.Dequeue();
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken)
    {
        lock (_deadLetters)
        {
            return ValueTask.FromResult<IReadOnlyList<DeadLetter>>([.. _deadLetters.Skip(Math.Max(0, _deadLetters.Count - maxCount))]);
        }
    }

    private async Task RequeueAfterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay)
    {
        await Task.Delay(delay, _time).ConfigureAwait(false);
        Requeue(entries);
    }

    private void Requeue(IReadOnlyList<OutboxEntry> entries)
    {
        foreach (var entry in entries)
        {
            _channel.Writer.TryWrite(entry);
        }
    }

    private static void Drain(ChannelReader<OutboxEntry> reader, List<OutboxEntry> batch, int maxCount)
    {
        while (batch.Count < maxCount && reader.TryRead(out var entry))
        {
            batch.Add(entry);
        }
    }
}
