using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.FollowUps;
using CapiMiddleware.Hosting;
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

/// <summary>
/// Builds the wire event once and puts it in the outbox store; what became of it (queued, stored, refused) it tells the
/// observers (<see cref="ConversionObservers"/>: metrics, log, match diagnostics, inspector).
/// </summary>
internal sealed class ConversionQueue : IConversionQueue
{
    private readonly IOutboxStore _store;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly IConversionObserver _observers;
    private readonly Identity.CapturedIdentities _identities;
    private readonly SentEvents _sentEvents;
    private long _dropped;

    public ConversionQueue(
        IOutboxStore store,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        ConversionObservers observers,
        Identity.CapturedIdentities identities,
        SentEvents sentEvents)
    {
        _identities = identities;
        _sentEvents = sentEvents;
        _store = store;
        _options = options;
        _time = time;
        _observers = observers;
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

    public ValueTask<FollowUpOutcome> AppendToAsync(string orderIdOrEventId, Action<CustomData> change, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(orderIdOrEventId);
        ArgumentNullException.ThrowIfNull(change);
        return _options.CurrentValue.Enabled
            ? _sentEvents.AppendToAsync(orderIdOrEventId, change, this, cancellationToken)
            : ValueTask.FromResult(FollowUpOutcome.NotQueued);
    }

    /// <summary>The event with the query parameters that look like personal data removed from its URLs, counted; the same instance when there are none.</summary>
    private ConversionEvent WithoutPersonalDataInUrls(ConversionEvent conversionEvent, string eventId, MetaConversionsOptions options)
    {
        var rules = options.GetPersonalDataInUrls();
        var source = rules.Scrub(conversionEvent.EventSourceUrl, out var fromSource);
        var referrer = rules.Scrub(conversionEvent.ReferrerUrl, out var fromReferrer);
        if (fromSource + fromReferrer == 0)
        {
            return conversionEvent;
        }

        _observers.PersonalDataRemoved(conversionEvent.EventName, eventId, fromSource, fromReferrer);
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
            _observers.Refused(new RefusedEvent(conversionEvent.EventName, eventId, conversionEvent.ActionSource.WireName(), Refusal.Invalid, pixelProblem!));
            return new EnqueueResult(EnqueueStatus.Invalid, null);
        }

        conversionEvent = WithoutPersonalDataInUrls(conversionEvent, eventId, options);
        var graphEvent = GraphEventWriter.TryCreate(conversionEvent, eventId, _time.GetUtcNow(), out var problem, options.LimitedDataUse?.ToDataProcessingOptions());
        if (graphEvent is null)
        {
            _observers.Refused(new RefusedEvent(conversionEvent.EventName, eventId, conversionEvent.ActionSource.WireName(), Refusal.Invalid, problem!));
            return new EnqueueResult(EnqueueStatus.Invalid, null);
        }

        var quality = graphEvent.UserData.EstimateMatchQuality();
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
                    // Before the store: the sender may answer before EnqueueAsync returns.
                    _observers.Queued(entry, graphEvent, quality, conversionEvent.EventId is null ? EventIdSource.Generated : conversionEvent.EventIdSource);
                }

                stored &= await _store.EnqueueAsync(entry, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (!ex.IsCancellationBy(cancellationToken))
        {
            // A durable store that cannot write (disk full, Redis unreachable) loses this event, loudly; the request
            // and the Pixel's copy go on.
            var droppedSoFar = Interlocked.Increment(ref _dropped);
            _observers.Refused(new RefusedEvent(graphEvent.EventName, eventId, graphEvent.ActionSource, Refusal.StoreFailed,
                "The outbox store could not take it; the log says why (event 44).", ex, droppedSoFar));
            return new EnqueueResult(EnqueueStatus.Failed, graphEvent);
        }

        if (!stored)
        {
            var droppedSoFar = Interlocked.Increment(ref _dropped);
            _observers.Refused(new RefusedEvent(graphEvent.EventName, eventId, graphEvent.ActionSource, Refusal.QueueFull,
                $"The queue is full (MetaConversions:QueueCapacity = {options.QueueCapacity}).", DroppedSoFar: droppedSoFar));
            return new EnqueueResult(EnqueueStatus.Full, graphEvent);
        }

        _observers.Stored(graphEvent);
        _sentEvents.Remember(graphEvent, payload, pixels);
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
