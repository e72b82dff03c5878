using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.Inspector;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Dispatch;

internal enum EnqueueStatus
{
    Queued,
    Disabled,
    Invalid,
    Full,
    Failed,
}

/// <summary>What became of an event handed to the queue; <see cref="Event"/> is its wire form when it was valid.</summary>
internal readonly record struct EnqueueResult(EnqueueStatus Status, GraphEvent? Event);

/// <summary>Builds the wire event once and puts it in the outbox store.</summary>
internal sealed class ConversionQueue : IConversionQueue
{
    private readonly IOutboxStore _store;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly MatchDiagnostics _diagnostics;
    private readonly RecentEvents _inspector;
    private readonly ILogger<ConversionQueue> _logger;
    private long _dropped;

    public ConversionQueue(
        IOutboxStore store,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        MatchDiagnostics diagnostics,
        RecentEvents inspector,
        ILogger<ConversionQueue> logger)
    {
        _store = store;
        _options = options;
        _time = time;
        _diagnostics = diagnostics;
        _inspector = inspector;
        _logger = logger;
    }

    /// <summary>How many events were dropped because the queue was full or the store could not take them.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    public async ValueTask<bool> EnqueueAsync(ConversionEvent conversionEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversionEvent);
        var result = await EnqueueAsync(conversionEvent, conversionEvent.EventId ?? EventIds.NewId(), cancellationToken).ConfigureAwait(false);
        return result.Status == EnqueueStatus.Queued;
    }

    internal async ValueTask<EnqueueResult> EnqueueAsync(ConversionEvent conversionEvent, string eventId, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        if (!options.Enabled)
        {
            return new EnqueueResult(EnqueueStatus.Disabled, null);
        }

        var graphEvent = GraphEventWriter.TryCreate(conversionEvent, eventId, _time.GetUtcNow(), out var problem);
        if (graphEvent is null)
        {
            Log.EventInvalid(_logger, conversionEvent.EventName, eventId, problem!);
            _inspector.NotQueued(conversionEvent.EventName, eventId, conversionEvent.ActionSource.WireName(), DeliveryStatus.Invalid, problem!);
            return new EnqueueResult(EnqueueStatus.Invalid, null);
        }

        var quality = _diagnostics.Observe(graphEvent);
        var entry = new OutboxEntry
        {
            PixelId = options.PixelId ?? string.Empty,
            EventName = graphEvent.EventName,
            EventId = eventId,
            EventTime = graphEvent.EventTime,
            ActionSource = graphEvent.ActionSource,
            Payload = GraphEventWriter.Serialize(graphEvent),
            EnqueuedAt = _time.GetUtcNow(),
        };
        _inspector.Queued(entry, quality); // before the store: the sender may answer before EnqueueAsync returns

        bool stored;
        try
        {
            stored = await _store.EnqueueAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A durable store that cannot write (disk full, Redis unreachable) loses this event, loudly; the request
            // and the Pixel's copy go on.
            Interlocked.Increment(ref _dropped);
            Log.OutboxWriteFailed(_logger, ex, graphEvent.EventName, eventId);
            _inspector.NotQueued(graphEvent.EventName, eventId, graphEvent.ActionSource, DeliveryStatus.Dropped, "The outbox store could not take it; the log says why (event 44).");
            return new EnqueueResult(EnqueueStatus.Failed, graphEvent);
        }

        if (!stored)
        {
            var dropped = Interlocked.Increment(ref _dropped);
            Log.QueueFull(_logger, graphEvent.EventName, eventId, options.QueueCapacity, dropped);
            _inspector.NotQueued(graphEvent.EventName, eventId, graphEvent.ActionSource, DeliveryStatus.Dropped, $"The queue is full (MetaConversions:QueueCapacity = {options.QueueCapacity}).");
            return new EnqueueResult(EnqueueStatus.Full, graphEvent);
        }

        Log.EventQueued(_logger, graphEvent.EventName, eventId);
        return new EnqueueResult(EnqueueStatus.Queued, graphEvent);
    }
}
