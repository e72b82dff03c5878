namespace CapiMiddleware.Diagnostics;

/// <summary>
/// Lets a message that any request can cause (a garbage cookie, a set-up mistake seen on every request) through at
/// most once an interval, and counts every occurrence, so a flood of such requests writes one line an interval with
/// the count instead of one line a request. Thread-safe; allocates nothing.
/// </summary>
internal sealed class LogThrottle(TimeSpan interval)
{
    /// <summary>The interval of the warnings that requests can cause.</summary>
    public static readonly TimeSpan PerMinute = TimeSpan.FromMinutes(1);

    private long _occurrences;
    private long _nextTicks;
    private long _loggedUpTo;

    /// <summary>How many times it happened since start.</summary>
    public long Occurrences => Interlocked.Read(ref _occurrences);

    /// <summary>Counts one occurrence; <see langword="true"/> when this one should be logged.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="occurrences">How many times it happened since start, this one included.</param>
    public bool ShouldLog(TimeProvider time, out long occurrences)
    {
        occurrences = Interlocked.Increment(ref _occurrences);
        var now = time.GetUtcNow().UtcTicks;
        var next = Interlocked.Read(ref _nextTicks);
        return now >= next && Interlocked.CompareExchange(ref _nextTicks, now + interval.Ticks, next) == next;
    }

    /// <summary>As <see cref="ShouldLog(TimeProvider, out long)"/>, with how many happened since the last line logged.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="occurrences">How many times it happened since start, this one included.</param>
    /// <param name="sinceLastLine">When this one should be logged: how many happened since the last line, this one included.</param>
    public bool ShouldLog(TimeProvider time, out long occurrences, out long sinceLastLine)
    {
        var log = ShouldLog(time, out occurrences);
        sinceLastLine = log ? occurrences - Interlocked.Exchange(ref _loggedUpTo, occurrences) : 0;
        return log;
    }
}
