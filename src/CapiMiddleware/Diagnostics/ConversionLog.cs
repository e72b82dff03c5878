using CapiMiddleware.Context;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// The log lines of an event's way, written from what the pipeline tells its observers. Each line keeps the category of
/// the part that did the work (<see cref="ConversionQueue"/>, <see cref="ConversionRecorder"/>,
/// <see cref="OutboxSender"/>), so log filters written for those categories go on working. What the sender decides
/// (a retry's delay, a refused token) it logs itself.
/// </summary>
internal sealed class ConversionLog(IOptionsMonitor<MetaConversionsOptions> options, ILoggerFactory loggers) : IConversionObserver
{
    private readonly ILogger _queue = loggers.CreateLogger<ConversionQueue>();
    private readonly ILogger _recorder = loggers.CreateLogger<ConversionRecorder>();
    private readonly ILogger _sender = loggers.CreateLogger<OutboxSender>();

    public void Declared(string eventName) => Log.EventDeclaredForSharedPage(_recorder, eventName);

    public void Stored(GraphEvent graphEvent) => Log.EventQueued(_queue, graphEvent.EventName, graphEvent.EventId);

    public void Refused(in RefusedEvent refused)
    {
        switch (refused.Reason)
        {
            case Refusal.QueueFull:
                Log.QueueFull(_queue, refused.EventName, refused.EventId, options.CurrentValue.QueueCapacity, refused.DroppedSoFar);
                break;
            case Refusal.StoreFailed:
                Log.OutboxWriteFailed(_queue, refused.Error!, refused.EventName, refused.EventId);
                break;
            default:
                Log.EventInvalid(_queue, refused.EventName, refused.EventId, refused.Detail);
                break;
        }
    }

    public void PersonalDataRemoved(string eventName, string eventId, int fromSourceUrl, int fromReferrerUrl) =>
        Log.PersonalDataRemovedFromUrls(_queue, fromSourceUrl + fromReferrerUrl, eventName, eventId);

    public void Delivered(string pixelId, IReadOnlyList<OutboxEntry> batch, GraphSendResult result, bool sentToMeta)
    {
        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                Log.BatchSent(_sender, batch.Count, pixelId, result.EventsReceived, result.FbTraceId ?? "-");
                break;
            case SendOutcome.InvalidEvents when batch.Count == 1:
            case SendOutcome.Rejected:
                Log.EventsRejected(_sender, batch.Count, pixelId, batch[0].EventName, batch[0].EventId, result.Describe());
                break;
        }
    }
}
