namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// Tells waiting senders that this process has stored new entries, and how many so far, without losing a wake-up:
/// take <see cref="Next"/> before looking, then await it.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _count;

    /// <summary>Completes at the next <see cref="Pulse"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>How many entries were announced since the store opened.</summary>
    public long Count => Interlocked.Read(ref _count);

    public void Pulse(int stored)
    {
        Interlocked.Add(ref _count, stored);
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Waits for <paramref name="next"/> or until <paramref name="timeout"/> has passed, whichever comes first.</summary>
    public static async Task WaitAsync(Task next, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero || next.IsCompleted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, time, stop.Token);
        await Task.WhenAny(next, delay).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }
}
