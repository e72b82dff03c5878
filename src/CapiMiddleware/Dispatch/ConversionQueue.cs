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
    private readonly ConversionMetrics _metrics;
    private readonly RecentEvents _inspector;
    private readonly ILogger<ConversionQueue> _logger;
    private readonly Identity.CapturedIdentities _identities;
    private long _dropped;

    public ConversionQueue(
        IOutboxStore store,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        MatchDiagnostics diagnostics,
        ConversionMetrics metrics,
        RecentEvents inspector,
        Identity.CapturedIdentities identities,
        ILogger<ConversionQueue> logger)
    {
        _identities = identities;
        _store = store;
        _options = options;
        _time = time;
        _diagnostics = diagnostics;
        _metrics = metrics;
        _inspector = inspector;
        _logger = logger;
    }

    /// <summary>How many events were dropped because the queue was full or the store could not take them.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    public async ValueTask<bool> EnqueueAsync(ConversionEvent conversionEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversionEvent);
        if (conversionEvent.IdentityKey is { } key && _options.CurrentValue.Enabled)
        {
            // A payment confirmation: the identity captured at checkout, or nothing to send (no consent then).
            var joined = await _identities.JoinAsync(conversionEvent, key, cancellationToken).ConfigureAwait(false);
            if (joined is null)
            {
                return false;
            }

            conversionEvent = joined;
        }

        var result = await EnqueueAsync(conversionEvent, conversionEvent.EventId ?? EventIds.NewId(), host: null, cancellationToken).ConfigureAwait(false);
        return result.Status == EnqueueStatus.Queued;
    }

    /// <summary>The event with the query parameters that look like personal data removed from its URLs, counted; the same instance when there are none.</summary>
    private ConversionEvent WithoutPersonalDataInUrls(ConversionEvent conversionEvent, string eventId, MetaConversionsOptions options)
    {
        var rules = options.PersonalDataInUrls;
        var source = rules.Scrub(conversionEvent.EventSourceUrl, out var fromSource);
        var referrer = rules.Scrub(conversionEvent.ReferrerUrl, out var fromReferrer);
        if (fromSource + fromReferrer == 0)
        {
            return conversionEvent;
        }

        _metrics.PersonalDataRemoved("event_source_url", fromSource);
        _metrics.PersonalDataRemoved("referrer_url", fromReferrer);
        Log.PersonalDataRemovedFromUrls(_logger, fromSource + fromReferrer, conversionEvent.EventName, eventId);
        return conversionEvent with { EventSourceUrl = source, ReferrerUrl = referrer };
    }

    /// <param name="conversionEvent">The event.</param>
    /// <param name="eventId">Its ID.</param>
    /// <param name="host">The host of the request it comes from, which picks its pixels; null for an event with no request.</param>
    /// <param name="cancellationToken">Cancels waiting for a durable store.</param>
    internal async ValueTask<EnqueueResult> EnqueueAsync(ConversionEvent conversionEvent, string eventId, string? host, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        if (!options.Enabled)
        {
            return new EnqueueResult(EnqueueStatus.Disabled, null);
        }

        var pixels = PixelsFor(conversionEvent, host, options, out var pixelProblem);
        if (pixels is null)
        {
            Log.EventInvalid(_logger, conversionEvent.EventName, eventId, pixelProblem!);
            _metrics.Dropped(ConversionMetrics.Invalid);
            _inspector.NotQueued(conversionEvent.EventName, eventId, conversionEvent.ActionSource.WireName(), DeliveryStatus.Invalid, pixelProblem!);
            return new EnqueueResult(EnqueueStatus.Invalid, null);
        }

        conversionEvent = WithoutPersonalDataInUrls(conversionEvent, eventId, options);
        var graphEvent = GraphEventWriter.TryCreate(conversionEvent, eventId, _time.GetUtcNow(), out var problem, options.LimitedDataUse?.ToDataProcessingOptions());
        if (graphEvent is null)
        {
            Log.EventInvalid(_logger, conversionEvent.EventName, eventId, problem!);
            _metrics.Dropped(ConversionMetrics.Invalid);
            _inspector.NotQueued(conversionEvent.EventName, eventId, conversionEvent.ActionSource.WireName(), DeliveryStatus.Invalid, problem!);
            return new EnqueueResult(EnqueueStatus.Invalid, null);
        }

        var quality = _diagnostics.Observe(graphEvent);
        var payload = GraphEventWriter.Serialize(graphEvent);
        var enqueuedAt = _time.GetUtcNow();
        var stored = true;
        try
        {
            // One entry per pixel, all with the same payload and event ID: Meta deduplicates per pixel.
            foreach (var pixelId in pixels)
            {
                var entry = new OutboxEntry
                {
                    PixelId = pixelId,
                    EventName = graphEvent.EventName,
                    EventId = eventId,
                    EventTime = graphEvent.EventTime,
                    ActionSource = graphEvent.ActionSource,
                    Payload = payload,
                    EnqueuedAt = enqueuedAt,
                };
                if (ReferenceEquals(pixelId, pixels[0]))
                {
                    _inspector.Queued(entry, quality, conversionEvent.EventId is null ? EventIdSource.Generated : conversionEvent.EventIdSource); // before the store: the sender may answer before EnqueueAsync returns
                }

                stored &= await _store.EnqueueAsync(entry, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A durable store that cannot write (disk full, Redis unreachable) loses this event, loudly; the request
            // and the Pixel's copy go on.
            Interlocked.Increment(ref _dropped);
            Log.OutboxWriteFailed(_logger, ex, graphEvent.EventName, eventId);
            _metrics.Dropped(ConversionMetrics.StoreFailed);
            _inspector.NotQueued(graphEvent.EventName, eventId, graphEvent.ActionSource, DeliveryStatus.Dropped, "The outbox store could not take it; the log says why (event 44).");
            return new EnqueueResult(EnqueueStatus.Failed, graphEvent);
        }

        if (!stored)
        {
            var dropped = Interlocked.Increment(ref _dropped);
            Log.QueueFull(_logger, graphEvent.EventName, eventId, options.QueueCapacity, dropped);
            _metrics.Dropped(ConversionMetrics.QueueFull);
            _inspector.NotQueued(graphEvent.EventName, eventId, graphEvent.ActionSource, DeliveryStatus.Dropped, $"The queue is full (MetaConversions:QueueCapacity = {options.QueueCapacity}).");
            return new EnqueueResult(EnqueueStatus.Full, graphEvent);
        }

        Log.EventQueued(_logger, graphEvent.EventName, eventId);
        _metrics.Accepted(graphEvent.EventName);
        return new EnqueueResult(EnqueueStatus.Queued, graphEvent);
    }

    /// <summary>The pixel IDs the event goes to, or null with the reason when it names one that is not configured or none applies.</summary>
    private IReadOnlyList<string>? PixelsFor(ConversionEvent conversionEvent, string? host, MetaConversionsOptions options, out string? problem)
    {
        problem = null;
        var routing = PixelRouting.For(options);
        if (conversionEvent.PixelIds is { } chosen)
        {
            foreach (var id in chosen)
            {
                if (!routing.IsConfigured(id))
                {
                    problem = $"it names pixel '{(id.Length <= 20 ? id : id[..20])}', which is not configured in MetaConversions:PixelId or MetaConversions:Pixels";
                    return null;
                }
            }

            return chosen.Count == 0 ? null : chosen.Distinct(StringComparer.Ordinal).ToArray();
        }

        var routes = routing.ForHost(host);
        if (routes.Count == 0)
        {
            problem = $"no pixel is configured for host '{host}': set MetaConversions:PixelId, or a MetaConversions:Pixels entry whose Hosts include it";
            return null;
        }

        if (routes.Count == 1)
        {
            return [routes[0].PixelId];
        }

        var ids = new string[routes.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = routes[i].PixelId;
        }

        return ids;
    }
}
