namespace CapiMiddleware.Dispatch.Outbox;

/// <summary>
/// The circuit breaker of <see cref="FallbackOutboxStore"/>: after <c>threshold</c> failed or late writes in a row the
/// store is skipped for <c>breakDuration</c>; then one caller (a request or the drain) is let through to probe it,
/// the others keep skipping it until the probe's outcome is known. Time comes from the injected
/// <see cref="TimeProvider"/>.
/// </summary>
internal sealed class StoreBreaker
{
    private readonly int _threshold;
    private readonly TimeSpan _breakDuration;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private int _failures;
    private DateTimeOffset? _openUntil;
    private DateTimeOffset? _openSince;
    private bool _probing;
    private volatile bool _healthy = true;

    public StoreBreaker(int threshold, TimeSpan breakDuration, TimeProvider time)
    {
        _threshold = threshold;
        _breakDuration = breakDuration;
        _time = time;
    }

    /// <summary>What the breaker says now.</summary>
    /// <param name="OpenSince">When the store was first skipped in this outage; <see langword="null"/> while closed.</param>
    /// <param name="ConsecutiveFailures">Failed or late writes since the last one that worked.</param>
    /// <param name="LastFailure">The last failure, in a few words (an exception's type name, or the budget).</param>
    public readonly record struct State(DateTimeOffset? OpenSince, int ConsecutiveFailures, string? LastFailure);

    /// <summary>The breaker's state, for the health check.</summary>
    public State Current
    {
        get
        {
            lock (_gate)
            {
                return new State(_openSince, _failures, LastFailure);
            }
        }
    }

    private string? LastFailure { get; set; }

    /// <summary>
    /// Whether the caller may write to the store now. <paramref name="probe"/> is <see langword="true"/> when it is the
    /// one let through after the break: it must report its outcome (<see cref="Succeeded"/> or <see cref="Failed"/>).
    /// </summary>
    public bool TryPass(out bool probe)
    {
        probe = false;
        if (_healthy)
        {
            return true;
        }

        lock (_gate)
        {
            if (_openUntil is not { } until)
            {
                return true;
            }

            if (_probing || _time.GetUtcNow() < until)
            {
                return false;
            }

            _probing = true;
            probe = true;
            return true;
        }
    }

    /// <summary>How long until a probe may be tried; zero while closed or when it may be tried now.</summary>
    public TimeSpan ProbeIn()
    {
        lock (_gate)
        {
            if (_openUntil is not { } until)
            {
                return TimeSpan.Zero;
            }

            var left = until - _time.GetUtcNow();
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>A write worked; <see langword="true"/> when this closed the breaker (the store is back).</summary>
    public bool Succeeded()
    {
        if (_healthy)
        {
            return false;
        }

        lock (_gate)
        {
            var wasOpen = _openUntil is not null;
            _failures = 0;
            _openUntil = null;
            _openSince = null;
            _probing = false;
            _healthy = true;
            return wasOpen;
        }
    }

    /// <summary>A write failed or ran late; <see langword="true"/> when this opened the breaker.</summary>
    public bool Failed(string failure)
    {
        lock (_gate)
        {
            _healthy = false;
            _failures++;
            LastFailure = failure;
            var now = _time.GetUtcNow();
            if (_openUntil is not null)
            {
                // A failed probe (or a late failure while open): skip the store for another break.
                _openUntil = now + _breakDuration;
                _probing = false;
                return false;
            }

            if (_failures < _threshold)
            {
                return false;
            }

            _openUntil = now + _breakDuration;
            _openSince = now;
            _probing = false;
            return true;
        }
    }
}
