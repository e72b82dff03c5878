using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Inspector;

/// <summary>Whether the inspector records and serves, decided from the options and the environment.</summary>
internal enum InspectorState
{
    /// <summary>Off: nothing recorded, its paths are the application's.</summary>
    Off,

    /// <summary>On for anyone who can reach it (Development without a policy).</summary>
    Open,

    /// <summary>On for requests that satisfy <see cref="InspectorOptions.AuthorizationPolicy"/>.</summary>
    PolicyRequired,

    /// <summary>Asked for outside Development without a policy: stays off, and the log says how to turn it on.</summary>
    OffWithoutPolicy,
}

/// <summary>Where an event stands between the action that reported it and Meta's answer.</summary>
internal enum DeliveryStatus
{
    /// <summary>In the outbox, waiting to be sent.</summary>
    Queued,

    /// <summary>Meta answered 200.</summary>
    Sent,

    /// <summary>No access token: written to the log as it would be sent, and not sent ("show, don't send").</summary>
    Shown,

    /// <summary>A temporary failure: back in the outbox, to be tried again.</summary>
    Deferred,

    /// <summary>Meta refused the token or a permission: kept until that is fixed.</summary>
    Paused,

    /// <summary>Meta refused the event for good: it became a dead letter.</summary>
    Rejected,

    /// <summary>The outbox could not take it (full, or a durable store failed): it will not be sent.</summary>
    Dropped,

    /// <summary>Refused before it was queued, because Meta would reject it.</summary>
    Invalid,
}

/// <summary>How the Pixel's copy of an event reached the browser.</summary>
internal enum PixelHandover
{
    /// <summary>In the page that answered the request, through the tag helper's data block.</summary>
    Page,

    /// <summary>Carried across a redirect to the next page that renders the tag helper.</summary>
    Redirect,

    /// <summary>Fired by the page itself (<c>metaCapi.track</c>), which told the server its event ID.</summary>
    Browser,
}

/// <summary>What the Pixel was handed: <see cref="Event"/> is null when the browser fired it itself.</summary>
internal sealed record PixelCopy(PixelHandover Handover, PixelEvent? Event);

/// <summary>
/// One event as the inspector shows it. Immutable: every change makes a new one with a higher <see cref="Version"/>,
/// so a snapshot is a list of references.
/// </summary>
internal sealed record InspectedEvent
{
    /// <summary>The order of recording: larger is newer.</summary>
    public required long Sequence { get; init; }

    /// <summary>The record's version when this event last changed.</summary>
    public required long Version { get; init; }

    public required string EventName { get; init; }

    public required string EventId { get; init; }

    public required string ActionSource { get; init; }

    public required DateTimeOffset RecordedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public required DeliveryStatus Status { get; init; }

    /// <summary>Why it is not sent yet, or not at all: Graph's answer, or the reason it was refused.</summary>
    public string? Detail { get; init; }

    /// <summary>Graph's trace ID of the last answer about this event.</summary>
    public string? FbTraceId { get; init; }

    /// <summary>How many sends of the event have been answered (or failed).</summary>
    public int SendAttempts { get; init; }

    /// <summary>The server's copy as it goes on the wire (hashed), or null when none was built or it is too large to keep.</summary>
    public byte[]? ServerPayload { get; init; }

    /// <summary>The size of the server's copy in bytes, kept or not.</summary>
    public int ServerPayloadLength { get; init; }

    public MatchQuality? MatchQuality { get; init; }

    /// <summary>Who chose the event ID (the server, the browser's header, or the library at random); null until the server's copy is built.</summary>
    public EventIdSource? EventIdSource { get; init; }

    public PixelCopy? Pixel { get; init; }

    /// <summary>What the page's beacon said of the browser's copy: sent too, or blocked (server only); unknown until it reports.</summary>
    public PixelReach.Side BrowserCopy { get; init; }
}

/// <summary>The events that changed after a version, newest first.</summary>
/// <param name="Version">The record's version now: ask for what changed after it next time.</param>
/// <param name="Full">Whether <see cref="Events"/> is every event held (not only the changed ones).</param>
/// <param name="OldestSequence">The <see cref="InspectedEvent.Sequence"/> of the oldest event still held; older ones are gone.</param>
/// <param name="Events">The events, newest first.</param>
internal sealed record InspectorSnapshot(long Version, bool Full, long OldestSequence, IReadOnlyList<InspectedEvent> Events);

/// <summary>
/// The inspector's memory: the latest <see cref="Capacity"/> events by event name and ID, with the server's copy, the
/// Pixel's copy, the match quality estimate and the delivery status. Its size is bounded whatever the outbox holds,
/// and nothing is recorded while the inspector is off. An observer of the pipeline (<see cref="IConversionObserver"/>): the
/// queue tells it of the server's copy, the recorder of the Pixel's, the sender of Meta's answer, the beacon of the
/// browser's.
/// </summary>
internal sealed class RecentEvents : IConversionObserver
{
    /// <summary>How many events are kept; the oldest goes when a new one comes.</summary>
    public const int Capacity = 200;

    /// <summary>A server copy larger than this is not kept (its size is): the record's memory stays bounded.</summary>
    public const int MaxPayloadBytes = 64 * 1024;

    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly bool _isDevelopment;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Name, string Id), LinkedListNode<InspectedEvent>> _byKey = [];
    private readonly LinkedList<InspectedEvent> _order = new(); // oldest first
    private long _sequence;
    private long _version;

    public RecentEvents(IOptionsMonitor<MetaConversionsOptions> options, TimeProvider time, IHostEnvironment? environment = null)
    {
        _options = options;
        _time = time;
        _isDevelopment = environment?.IsDevelopment() ?? false;
    }

    public InspectorState State => Decide(_options.CurrentValue, _isDevelopment);

    private bool IsRecording => State is InspectorState.Open or InspectorState.PolicyRequired;

    public static InspectorState Decide(MetaConversionsOptions options, bool isDevelopment)
    {
        var inspector = options.Inspector;
        if (!options.Enabled || inspector is null || !(inspector.Enabled ?? isDevelopment))
        {
            return InspectorState.Off;
        }

        if (!string.IsNullOrWhiteSpace(inspector.AuthorizationPolicy))
        {
            return InspectorState.PolicyRequired;
        }

        return isDevelopment ? InspectorState.Open : InspectorState.OffWithoutPolicy;
    }

    /// <summary>The server's copy was built and is about to go into the outbox; <paramref name="idSource"/> says who chose its ID.</summary>
    public void Queued(OutboxEntry entry, MatchQuality quality, EventIdSource idSource = EventIdSource.Server)
    {
        if (!IsRecording)
        {
            return;
        }

        var payload = entry.Payload.Length <= MaxPayloadBytes ? entry.Payload : null;
        Change(entry.EventName, entry.EventId, entry.ActionSource, create: true, (e, version, now) => e with
        {
            Version = version,
            UpdatedAt = now,
            Status = DeliveryStatus.Queued,
            Detail = null,
            ServerPayload = payload,
            ServerPayloadLength = entry.Payload.Length,
            MatchQuality = quality,
            EventIdSource = idSource,
        });
    }

    /// <summary>The event will not be sent: refused before queuing (<see cref="DeliveryStatus.Invalid"/>) or not stored.</summary>
    public void NotQueued(string eventName, string eventId, string actionSource, DeliveryStatus status, string detail)
    {
        if (!IsRecording)
        {
            return;
        }

        Change(eventName, eventId, actionSource, create: true, (e, version, now) => e with
        {
            Version = version,
            UpdatedAt = now,
            Status = status,
            Detail = detail,
        });
    }

    /// <summary>The Pixel's copy was handed to the page (or to the redirect that leads to it).</summary>
    public void PixelHanded(PixelEvent pixel, bool redirect)
    {
        if (IsRecording)
        {
            SetPixel(pixel.Name, pixel.EventId, new PixelCopy(redirect ? PixelHandover.Redirect : PixelHandover.Page, pixel));
        }
    }

    /// <summary>The page fired the Pixel's copy itself and sent the server its event ID.</summary>
    public void PixelFiredByBrowser(string eventName, string eventId)
    {
        if (IsRecording)
        {
            SetPixel(eventName, eventId, new PixelCopy(PixelHandover.Browser, null));
        }
    }

    /// <summary>What one send of <paramref name="batch"/> came to; <paramref name="sentToMeta"/> is false in "show, don't send".</summary>
    public void Delivered(IReadOnlyList<OutboxEntry> batch, GraphSendResult result, bool sentToMeta)
    {
        if (!IsRecording || (result.Outcome == SendOutcome.InvalidEvents && batch.Count > 1))
        {
            return; // a refused batch is split and sent again: its halves report
        }

        var (status, detail) = result.Outcome switch
        {
            SendOutcome.Accepted => (sentToMeta ? DeliveryStatus.Sent : DeliveryStatus.Shown, null),
            SendOutcome.InvalidEvents or SendOutcome.Rejected => (DeliveryStatus.Rejected, result.Describe()),
            SendOutcome.TokenRejected or SendOutcome.PermissionDenied => (DeliveryStatus.Paused, result.Describe()),
            SendOutcome.Cancelled => (DeliveryStatus.Queued, "The host stopped before Meta answered; the event is back in the outbox."),
            _ => (DeliveryStatus.Deferred, result.Describe()),
        };

        foreach (var entry in batch)
        {
            Change(entry.EventName, entry.EventId, entry.ActionSource, create: false, (e, version, now) => e with
            {
                Version = version,
                UpdatedAt = now,
                Status = status,
                Detail = detail,
                FbTraceId = result.FbTraceId ?? e.FbTraceId,
                SendAttempts = e.SendAttempts + 1,
            });
        }
    }

    /// <summary>The page's beacon told whether the browser's copy of this event was sent too (<see cref="PixelReach"/>).</summary>
    public void BrowserCopyReported(string eventName, string eventId, PixelReach.Side side)
    {
        if (IsRecording)
        {
            Change(eventName, eventId, "", create: false, (e, version, now) => e with { Version = version, UpdatedAt = now, BrowserCopy = side });
        }
    }

    void IConversionObserver.Queued(OutboxEntry entry, GraphEvent graphEvent, MatchQuality quality, EventIdSource idSource) =>
        Queued(entry, quality, idSource);

    void IConversionObserver.Refused(in RefusedEvent refused) => NotQueued(
        refused.EventName,
        refused.EventId,
        refused.ActionSource,
        refused.Reason == Refusal.Invalid ? DeliveryStatus.Invalid : DeliveryStatus.Dropped,
        refused.Detail);

    void IConversionObserver.HandedToPixel(string eventName, string eventId, PixelHandover handover, PixelEvent? pixel, bool serverCopyQueued)
    {
        if (pixel is null)
        {
            PixelFiredByBrowser(eventName, eventId);
        }
        else
        {
            PixelHanded(pixel, handover == PixelHandover.Redirect);
        }
    }

    void IConversionObserver.Delivered(string pixelId, IReadOnlyList<OutboxEntry> batch, GraphSendResult result, bool sentToMeta) =>
        Delivered(batch, result, sentToMeta);

    /// <summary>The events that changed after <paramref name="since"/>; all of them when it is 0 or unknown here.</summary>
    public InspectorSnapshot Since(long since)
    {
        lock (_gate)
        {
            var full = since <= 0 || since > _version;
            var events = new List<InspectedEvent>();
            for (var node = _order.Last; node is not null; node = node.Previous)
            {
                if (full || node.Value.Version > since)
                {
                    events.Add(node.Value);
                }
            }

            return new InspectorSnapshot(_version, full, _order.First?.Value.Sequence ?? _sequence + 1, events);
        }
    }

    private void SetPixel(string eventName, string eventId, PixelCopy pixel) =>
        Change(eventName, eventId, "", create: false, (e, version, now) => e with { Version = version, UpdatedAt = now, Pixel = pixel });

    private void Change(string eventName, string eventId, string actionSource, bool create, Func<InspectedEvent, long, DateTimeOffset, InspectedEvent> change)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var key = (eventName, eventId);
            if (_byKey.TryGetValue(key, out var node))
            {
                node.Value = change(node.Value, ++_version, now);
                return;
            }

            if (!create)
            {
                return; // gone already, or recorded by another process
            }

            if (_order.Count >= Capacity && _order.First is { } oldest)
            {
                _order.RemoveFirst();
                _byKey.Remove((oldest.Value.EventName, oldest.Value.EventId));
            }

            var fresh = new InspectedEvent
            {
                Sequence = ++_sequence,
                Version = 0,
                EventName = eventName,
                EventId = eventId,
                ActionSource = actionSource,
                RecordedAt = now,
                UpdatedAt = now,
                Status = DeliveryStatus.Queued,
            };
            _byKey.Add(key, _order.AddLast(change(fresh, ++_version, now)));
        }
    }
}
