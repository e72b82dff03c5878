using System.Diagnostics.Metrics;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// What the server earned: how many page views had Meta's Pixel blocked, and for each event name how many events reached
/// Meta from both sides and how many only from the server (the browser's copy could not be sent). An observer of the
/// pipeline: it expects the events whose server copy was queued and whose Pixel copy went to the browser; the snippet's
/// beacons (<see cref="Serving.PixelBeacon"/>) can then only mark those, never add one. Memory is bounded: the latest
/// <see cref="MaxTrackedEvents"/> event IDs and <see cref="MaxEventNames"/> event names.
/// </summary>
internal sealed class PixelReach : IConversionObserver
{
    public const int MaxTrackedEvents = 10_000;
    public const int MaxEventNames = 100;
    public const string OtherEventNames = "(other)";

    private readonly object _gate = new();
    private readonly Dictionary<string, Tracked> _events = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Dictionary<string, Tally> _byName = new(StringComparer.Ordinal);
    private readonly Counter<long> _pageViews;
    private readonly Counter<long> _browserCopies;
    private long _pageViewCount;
    private long _blockedCount;

    public PixelReach(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MetaConversionsDiagnostics.MeterName);
        _pageViews = meter.CreateCounter<long>(
            "capimiddleware.pixel.page_views", "{page_view}", "Page views reported by the snippet, by whether Meta's Pixel was blocked (pixel.blocked).");
        _browserCopies = meter.CreateCounter<long>(
            "capimiddleware.events.browser_copy", "{event}", "Server events whose page reported back, by whether the browser's copy could be sent too (outcome: both, server_only).");
    }

    /// <summary>What the Pixel's side of an event turned out to be, as far as a beacon told.</summary>
    public enum Side
    {
        /// <summary>No beacon has mentioned the event (yet).</summary>
        Unknown,

        /// <summary>The page had the Pixel: both copies were sent.</summary>
        Both,

        /// <summary>The page had the Pixel blocked: only the server's copy reached Meta.</summary>
        ServerOnly,
    }

    /// <summary>A request's event whose server copy is on its way and whose Pixel copy went to the browser: expected in a beacon.</summary>
    void IConversionObserver.HandedToPixel(string eventName, string eventId, Inspector.PixelHandover handover, Events.PixelEvent? pixel, bool serverCopyQueued)
    {
        if (serverCopyQueued)
        {
            Expect(eventId, eventName);
        }
    }

    /// <summary>Remembers a server event that has a browser side, so a beacon that names its ID can count it.</summary>
    public void Expect(string eventId, string eventName)
    {
        lock (_gate)
        {
            if (_events.ContainsKey(eventId))
            {
                return;
            }

            if (_order.Count >= MaxTrackedEvents)
            {
                _events.Remove(_order.Dequeue());
            }

            _events[eventId] = new Tracked(eventName);
            _order.Enqueue(eventId);
        }
    }

    /// <summary>
    /// Counts one page view's beacon; each known event ID is counted the first time a beacon names it.
    /// </summary>
    /// <returns>The events counted now, as (event name, event ID), or null when none was.</returns>
    public List<(string EventName, string EventId)>? Observe(bool pixelBlocked, IReadOnlyList<string> eventIds)
    {
        var side = pixelBlocked ? Side.ServerOnly : Side.Both;
        List<(string EventName, string EventId)>? counted = null;
        lock (_gate)
        {
            _pageViewCount++;
            if (pixelBlocked)
            {
                _blockedCount++;
            }

            foreach (var id in eventIds)
            {
                if (!_events.TryGetValue(id, out var tracked) || tracked.Side != Side.Unknown)
                {
                    continue;
                }

                tracked.Side = side;
                var name = _byName.ContainsKey(tracked.EventName) || _byName.Count < MaxEventNames ? tracked.EventName : OtherEventNames;
                var tally = _byName.TryGetValue(name, out var t) ? t : _byName[name] = new Tally();
                if (pixelBlocked)
                {
                    tally.ServerOnly++;
                }
                else
                {
                    tally.Both++;
                }

                (counted ??= []).Add((tracked.EventName, id));
            }
        }

        if (_pageViews.Enabled)
        {
            _pageViews.Add(1, new KeyValuePair<string, object?>("pixel.blocked", pixelBlocked));
        }

        if (counted is not null && _browserCopies.Enabled)
        {
            var outcome = pixelBlocked ? "server_only" : "both";
            foreach (var (name, _) in counted)
            {
                _browserCopies.Add(1, new KeyValuePair<string, object?>("event_name", name), new KeyValuePair<string, object?>("outcome", outcome));
            }
        }

        return counted;
    }

    /// <summary>What a beacon said about this event, if one did.</summary>
    public Side SideOf(string eventId)
    {
        lock (_gate)
        {
            return _events.TryGetValue(eventId, out var tracked) ? tracked.Side : Side.Unknown;
        }
    }

    /// <summary>The figures so far, for the inspector and <c>summary.json</c>.</summary>
    public PixelReachSummary Snapshot()
    {
        lock (_gate)
        {
            var events = new SortedDictionary<string, EventReach>(StringComparer.Ordinal);
            foreach (var (name, tally) in _byName)
            {
                events[name] = new EventReach(tally.Both, tally.ServerOnly);
            }

            return new PixelReachSummary(_pageViewCount, _blockedCount, events);
        }
    }

    private sealed class Tracked(string eventName)
    {
        public string EventName { get; } = eventName;

        public Side Side { get; set; }
    }

    private sealed class Tally
    {
        public long Both { get; set; }

        public long ServerOnly { get; set; }
    }
}

/// <summary>The figures of <see cref="PixelReach"/>: page views, those with the Pixel blocked, and per event name both/server only.</summary>
internal sealed record PixelReachSummary(long PageViews, long PixelBlocked, IReadOnlyDictionary<string, EventReach> Events);

/// <summary>For one event name: events sent by both sides, and events that reached Meta only through the server.</summary>
internal sealed record EventReach(long Both, long ServerOnly);
