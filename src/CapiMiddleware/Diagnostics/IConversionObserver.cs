using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;
using CapiMiddleware.Inspector;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// What happens to a conversion on its way, told by the pipeline (the recorder, the queue, the sender, the beacon) to
/// whoever listens: the inspector's recent events, the Pixel-reach counts, the metrics, the match diagnostics and the
/// log. The pipeline knows this interface only (through <see cref="ConversionObservers"/>), never who listens. Each
/// method has an empty default: an observer writes the ones it cares about. Calls come on the thread of the request or
/// of the sender, so an observer takes microseconds, never waits, and never throws.
/// </summary>
internal interface IConversionObserver
{
    /// <summary>A page that a cache shares between visitors declared the conversion, for each visitor's snippet to report.</summary>
    void Declared(string eventName)
    {
    }

    /// <summary>
    /// The server's copy of an event was built and goes into the outbox now: told before the store takes it, since the
    /// sender may answer before the store's call returns. <paramref name="entry"/> is the first pixel's entry.
    /// </summary>
    void Queued(OutboxEntry entry, GraphEvent graphEvent, MatchQuality quality, EventIdSource idSource)
    {
    }

    /// <summary>The outbox store took the event (for each of its pixels).</summary>
    void Stored(GraphEvent graphEvent)
    {
    }

    /// <summary>The event will not be sent: refused before it was queued, or not taken by the store.</summary>
    void Refused(in RefusedEvent refused)
    {
    }

    /// <summary>Query parameters that looked like personal data were removed from the event's URLs before it was queued.</summary>
    void PersonalDataRemoved(string eventName, string eventId, int fromSourceUrl, int fromReferrerUrl)
    {
    }

    /// <summary>
    /// The Pixel's copy of a request's event went to the browser: in the page, across a redirect, or fired by the page
    /// itself (<paramref name="pixel"/> is null then). <paramref name="serverCopyQueued"/> says whether the server's copy is
    /// on its way too, so that a beacon naming the event can count it.
    /// </summary>
    void HandedToPixel(string eventName, string eventId, PixelHandover handover, PixelEvent? pixel, bool serverCopyQueued)
    {
    }

    /// <summary>
    /// Graph answered one send of <paramref name="batch"/> to <paramref name="pixelId"/> (or, without an access token, it
    /// was written to the log: <paramref name="sentToMeta"/> is false). A batch refused for invalid events is then split
    /// and sent again, and its halves are told of too.
    /// </summary>
    void Delivered(string pixelId, IReadOnlyList<OutboxEntry> batch, GraphSendResult result, bool sentToMeta)
    {
    }

    /// <summary>A page's beacon said, for the first time, whether the browser's copy of this event could be sent too.</summary>
    void BrowserCopyReported(string eventName, string eventId, PixelReach.Side side)
    {
    }
}

/// <summary>Why an event will not be sent.</summary>
internal enum Refusal
{
    /// <summary>Meta would reject it (a rule of <c>GraphEventWriter</c>, or no pixel for it): not queued.</summary>
    Invalid,

    /// <summary>The memory outbox is at <c>MetaConversions:QueueCapacity</c>.</summary>
    QueueFull,

    /// <summary>The outbox store could not take it (and neither could its fallback).</summary>
    StoreFailed,
}

/// <summary>An event that will not be sent, and why.</summary>
/// <param name="EventName">The event's name.</param>
/// <param name="EventId">The event's ID.</param>
/// <param name="ActionSource">Its <c>action_source</c> as sent.</param>
/// <param name="Reason">Why.</param>
/// <param name="Detail">What the site owner reads: the broken rule, or what to change.</param>
/// <param name="Error">The store's exception, for <see cref="Refusal.StoreFailed"/>.</param>
/// <param name="DroppedSoFar">How many events the queue has dropped since the start, this one included (full or failed).</param>
internal readonly record struct RefusedEvent(
    string EventName,
    string EventId,
    string ActionSource,
    Refusal Reason,
    string Detail,
    Exception? Error = null,
    long DroppedSoFar = 0);

/// <summary>
/// Every <see cref="IConversionObserver"/> registered, as one: what the pipeline calls. Registered observers are the
/// library's own (<c>AddMetaConversions</c> adds them in a fixed order: metrics, log, match diagnostics, Pixel reach,
/// inspector); the order matters to nobody, as each keeps its own state.
/// </summary>
internal sealed class ConversionObservers(IEnumerable<IConversionObserver> observers) : IConversionObserver
{
    private readonly IConversionObserver[] _observers = [.. observers];

    public void Declared(string eventName)
    {
        foreach (var observer in _observers)
        {
            observer.Declared(eventName);
        }
    }

    public void Queued(OutboxEntry entry, GraphEvent graphEvent, MatchQuality quality, EventIdSource idSource)
    {
        foreach (var observer in _observers)
        {
            observer.Queued(entry, graphEvent, quality, idSource);
        }
    }

    public void Stored(GraphEvent graphEvent)
    {
        foreach (var observer in _observers)
        {
            observer.Stored(graphEvent);
        }
    }

    public void Refused(in RefusedEvent refused)
    {
        foreach (var observer in _observers)
        {
            observer.Refused(refused);
        }
    }

    public void PersonalDataRemoved(string eventName, string eventId, int fromSourceUrl, int fromReferrerUrl)
    {
        foreach (var observer in _observers)
        {
            observer.PersonalDataRemoved(eventName, eventId, fromSourceUrl, fromReferrerUrl);
        }
    }

    public void HandedToPixel(string eventName, string eventId, PixelHandover handover, PixelEvent? pixel, bool serverCopyQueued)
    {
        foreach (var observer in _observers)
        {
            observer.HandedToPixel(eventName, eventId, handover, pixel, serverCopyQueued);
        }
    }

    public void Delivered(string pixelId, IReadOnlyList<OutboxEntry> batch, GraphSendResult result, bool sentToMeta)
    {
        foreach (var observer in _observers)
        {
            observer.Delivered(pixelId, batch, result, sentToMeta);
        }
    }

    public void BrowserCopyReported(string eventName, string eventId, PixelReach.Side side)
    {
        foreach (var observer in _observers)
        {
            observer.BrowserCopyReported(eventName, eventId, side);
        }
    }
}
