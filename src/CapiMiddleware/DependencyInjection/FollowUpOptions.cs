namespace CapiMiddleware;

/// <summary>
/// Follow-up values on events already sent (<see cref="IConversionQueue.AppendToAsync"/>): section
/// <c>MetaConversions:FollowUps</c>, off until <see cref="Events"/> names some. The events named there are remembered
/// when queued, by order ID and event ID, in the
/// outbox's store (<see cref="OutboxOptions.Provider"/>): memory, the SQLite file, or Redis, so that a later margin or
/// predicted lifetime value can refer to them. What is remembered is the event as it was sent: its user fields hashed.
/// </summary>
public sealed class FollowUpOptions
{
    /// <summary>
    /// The names of the events that later values may follow up, as queued (<c>Purchase</c>, <c>StartTrial</c>, a custom
    /// name...), compared case-sensitively. Each such event is written to the outbox's store twice more (under its event
    /// ID, and a pointer under its order ID), after the request that queues it: with <c>redis</c>, two more commands and
    /// about 1.5 KB kept per event for <see cref="Window"/> and a day, which cut a two-node farm's rate by two thirds
    /// (docs/performance.md). The default value is <see langword="null"/>: none is remembered, and
    /// <see cref="IConversionQueue.AppendToAsync"/> refuses every follow-up, saying to list the event here.
    /// </summary>
    public IList<string>? Events { get; set; }

    /// <summary>Whether events named <paramref name="eventName"/> are remembered.</summary>
    internal bool Remembers(string eventName)
    {
        if (Events is not { Count: > 0 } names)
        {
            return false;
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], eventName, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// How long after an event a follow-up may refer to it, from 1 hour to 7 days: Meta wants a predicted lifetime value
    /// within 7 days of the conversion it values, and refuses events older than 7 days. A follow-up later than this is
    /// refused as <see cref="FollowUpOutcome.OriginalTooOld"/>. The default value is 7 days.
    /// </summary>
    public TimeSpan Window { get; set; } = MetaConversionsDefaults.FollowUpWindow;

    /// <summary>
    /// How many remembered events the <c>memory</c> store keeps at most, from 1 to 10,000,000; when full, the oldest is
    /// forgotten (counted by <c>capimiddleware.followups.evicted</c>), and a follow-up to it is refused as
    /// <see cref="FollowUpOutcome.OriginalUnknown"/>. Not used by <c>sqlite</c> or <c>redis</c>, which forget events
    /// after <see cref="Window"/>. The default value is 10,000.
    /// </summary>
    public int Capacity { get; set; } = MetaConversionsDefaults.FollowUpCapacity;
}
