using CapiMiddleware.Dispatch;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// How sending to Meta is going in this process, for the health check: fed with the outcome of every send by
/// <see cref="DeliveryTelemetry"/>, read as one immutable <see cref="DeliveryState"/>.
/// </summary>
/// <remarks>
/// A send Meta accepts makes everything well again. A temporary failure that outlasted its retries, or a refusal that
/// is not about one event, marks sending as failing. A refused token or a missing permission pauses sending, and stays
/// until a send is accepted again, whatever else happens meanwhile. An invalid event (code 100) says nothing about
/// delivery: its batch is split and the others go through.
/// </remarks>
internal sealed class DeliveryHealth
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private volatile DeliveryState _state = DeliveryState.Initial;

    public DeliveryHealth(TimeProvider time) => _time = time;

    public DeliveryState Current => _state;

    public void Record(GraphSendResult result)
    {
        if (result.Outcome is SendOutcome.Cancelled or SendOutcome.InvalidEvents)
        {
            return;
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var state = _state;
            _state = result.Outcome switch
            {
                SendOutcome.Accepted => state with { LastSuccess = now, FailingSince = null, ConsecutiveFailures = 0, Paused = null },
                _ => state with
                {
                    FailingSince = state.FailingSince ?? now,
                    ConsecutiveFailures = state.ConsecutiveFailures + 1,
                    LastFailure = result.Describe(),
                    LastFailureAt = now,
                    Paused = result.Outcome is SendOutcome.TokenRejected or SendOutcome.PermissionDenied ? result.Outcome : state.Paused,
                },
            };
        }
    }
}

/// <summary>A snapshot of <see cref="DeliveryHealth"/>.</summary>
/// <param name="LastSuccess">When Meta last accepted a batch.</param>
/// <param name="FailingSince">The first failed send since the last accepted one; <see langword="null"/> while sending works.</param>
/// <param name="ConsecutiveFailures">Failed sends since the last accepted one.</param>
/// <param name="LastFailure">The last failure in one line (<see cref="GraphSendResult.Describe"/>: status, Graph's message, codes, fbtrace_id; never the token).</param>
/// <param name="LastFailureAt">When it happened.</param>
/// <param name="Paused">
/// <see cref="SendOutcome.TokenRejected"/> or <see cref="SendOutcome.PermissionDenied"/> while Meta refuses the token;
/// cleared only by an accepted send.
/// </param>
internal sealed record DeliveryState(
    DateTimeOffset? LastSuccess,
    DateTimeOffset? FailingSince,
    int ConsecutiveFailures,
    string? LastFailure,
    DateTimeOffset? LastFailureAt,
    SendOutcome? Paused)
{
    public static readonly DeliveryState Initial = new(null, null, 0, null, null, null);
}
