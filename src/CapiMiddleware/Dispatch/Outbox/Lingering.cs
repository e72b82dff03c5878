namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// The lease loop of the durable stores: take what is due, then, while the batch is not full and the linger time
/// lasts, wait until this process has stored enough new entries to fill it, looking again at least every poll
/// interval for entries this process was not told about (other nodes' enqueues, retries coming due).
/// </summary>
internal static class Lingering
{
    public static async Task<List<OutboxEntry>> FillAsync(
        int maxCount,
        TimeSpan linger,
        Func<int, Task<List<OutboxEntry>>> take,
        AsyncSignal stored,
        TimeSpan pollInterval,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var batch = new List<OutboxEntry>(Math.Min(maxCount, 256));
        var deadline = time.GetUtcNow() + linger;
        try
        {
            while (true)
            {
                var storedBefore = stored.Count;
                // Taking is not cancelled half-way, and what was taken is always returned: a leased entry the sender
                // never sees would stay leased, renewed, until the process ends.
                try
                {
                    batch.AddRange(await take(maxCount - batch.Count).ConfigureAwait(false));
                }
                catch (Exception) when (batch.Count > 0)
                {
                    return batch;
                }

                if (batch.Count >= maxCount || time.GetUtcNow() >= deadline)
                {
                    return batch;
                }

                var needed = maxCount - batch.Count;
                var pollAt = time.GetUtcNow() + pollInterval;
                var until = deadline < pollAt ? deadline : pollAt;
                while (true)
                {
                    var next = stored.Next;
                    var now = time.GetUtcNow();
                    if (stored.Count - storedBefore >= needed || now >= until)
                    {
                        break;
                    }

                    await AsyncSignal.WaitAsync(next, until - now, time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host is stopping: send what there is.
            return batch;
        }
    }
}
