namespace CapiMiddleware.Hosting;

/// <summary>
/// Tells the library's own cancellation from a failure that comes as an <see cref="OperationCanceledException"/>: a
/// Redis client, a database driver or an HTTP stack throws a <see cref="TaskCanceledException"/> for a dropped
/// connection or a time-out of its own. Only such an exception while the token the library passed is cancelled means
/// "stop"; any other is a failure like the rest. Treated as "stop", it would end a background loop for good (the
/// sender, the fallback's drain, the lease renewal), or stop the host with it, or fail the request it came from.
/// </summary>
internal static class Cancellation
{
    /// <summary>Whether <paramref name="exception"/> is the cancellation that <paramref name="token"/> asked for.</summary>
    public static bool IsCancellationBy(this Exception exception, CancellationToken token) =>
        exception is OperationCanceledException && token.IsCancellationRequested;
}
