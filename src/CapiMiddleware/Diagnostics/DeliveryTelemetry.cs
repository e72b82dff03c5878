using System.Diagnostics;
using CapiMiddleware.Dispatch;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// What one send of a batch to Meta tells the outside world, in one place: a client <see cref="Activity"/> on the
/// <see cref="MetaConversionsDiagnostics.ActivitySourceName"/> source, the send metrics (<see cref="ConversionMetrics"/>)
/// and the health state (<see cref="DeliveryHealth"/>). <see cref="OutboxSender"/> opens a <see cref="SendScope"/>
/// around each send and completes it with Graph's answer; <see cref="GraphApiClient"/> reports its retries.
/// </summary>
/// <remarks>
/// Without an access token nothing is sent (<see cref="LogOnlyTransport"/>), so a send records nothing: no Activity,
/// no sent or failed events, and the health check says that nothing is sent.
/// </remarks>
internal sealed class DeliveryTelemetry
{
    public const string SendActivityName = "CapiMiddleware.Send";

    public static readonly ActivitySource Source =
        new(MetaConversionsDiagnostics.ActivitySourceName, typeof(DeliveryTelemetry).Assembly.GetName().Version?.ToString());

    private readonly ConversionMetrics _metrics;
    private readonly DeliveryHealth _health;
    private readonly TimeProvider _time;

    // QueueDepth is taken only to exist: it registers the queue depth gauge when the sender starts.
    public DeliveryTelemetry(ConversionMetrics metrics, DeliveryHealth health, QueueDepth queueDepth, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(queueDepth);
        _metrics = metrics;
        _health = health;
        _time = time;
    }

    /// <summary>Starts observing one send of <paramref name="batchSize"/> events to <paramref name="pixelId"/>.</summary>
    public SendScope StartSend(string pixelId, int batchSize, bool toMeta)
    {
        if (!toMeta)
        {
            return default;
        }

        var activity = Source.StartActivity(SendActivityName, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("pixel_id", pixelId);
            activity.SetTag("batch_size", batchSize);
        }

        return new SendScope(this, activity, _time.GetTimestamp());
    }

    /// <summary>A retry within one send (Polly): counted, and an event on the send's Activity.</summary>
    public void Retrying(int eventCount, int attempt)
    {
        _metrics.Retried(eventCount);
        if (Activity.Current is { IsAllDataRequested: true } activity && ReferenceEquals(activity.Source, Source))
        {
            activity.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection { ["attempt"] = attempt }));
        }
    }

    private void Complete(in SendScope scope, GraphSendResult result, IReadOnlyList<OutboxEntry> batch)
    {
        var outcome = result.Outcome;
        _metrics.SendMeasured(batch.Count, _time.GetElapsedTime(scope.Started), outcome);
        switch (outcome)
        {
            case SendOutcome.Accepted:
                _metrics.Sent(batch);
                break;

            case SendOutcome.InvalidEvents when batch.Count > 1:
                // OutboxSender halves the batch and sends each half: their outcomes count, not this one.
                break;

            case SendOutcome.InvalidEvents:
                _metrics.Failed(ConversionMetrics.Invalid, batch.Count);
                break;

            case SendOutcome.Transient:
                // Put back in the store to go round again.
                _metrics.Failed(ConversionMetrics.Transient, batch.Count);
                _metrics.Retried(batch.Count);
                break;

            case SendOutcome.Cancelled:
                break;

            default:
                _metrics.Failed(ConversionMetrics.OutcomeName(outcome), batch.Count);
                break;
        }

        _health.Record(result);

        if (scope.Activity is not { } activity)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag("outcome", ConversionMetrics.OutcomeName(outcome));
            activity.SetTag("fbtrace_id", result.FbTraceId);
            if (outcome == SendOutcome.Accepted)
            {
                activity.SetTag("events_received", result.EventsReceived);
            }
            else if (outcome != SendOutcome.Cancelled)
            {
                activity.SetTag("error.type", ConversionMetrics.OutcomeName(outcome));
                activity.SetStatus(ActivityStatusCode.Error, result.Describe());
            }
        }

        activity.Stop();
    }

    /// <summary>One send being observed; <see langword="default"/> when nothing is observed (no access token).</summary>
    internal readonly struct SendScope : IDisposable
    {
        private readonly DeliveryTelemetry? _owner;

        internal SendScope(DeliveryTelemetry owner, Activity? activity, long started)
        {
            _owner = owner;
            Activity = activity;
            Started = started;
        }

        public Activity? Activity { get; }

        public long Started { get; }

        /// <summary>Records Graph's answer: metrics, health, and the Activity's tags and status; stops the Activity.</summary>
        public void Complete(GraphSendResult result, IReadOnlyList<OutboxEntry> batch) => _owner?.Complete(this, result, batch);

        /// <summary>Stops the Activity if the send ended without an answer (an exception went through).</summary>
        public void Dispose()
        {
            if (Activity is { IsStopped: false } activity)
            {
                activity.Stop();
            }
        }
    }
}
