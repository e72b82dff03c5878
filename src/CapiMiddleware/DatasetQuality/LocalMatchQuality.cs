using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;

namespace CapiMiddleware.DatasetQuality;

/// <summary>
/// The library's own side of the comparison with Meta's Event Match Quality: per event name, how many events this
/// process queued, their average estimated score (<see cref="MatchQuality"/>) and how many carried each identifier. An
/// observer of the queue; counts since start, in memory, for at most <see cref="MaxEventNames"/> event names, and only
/// while Dataset Quality is on (nothing to compare with otherwise).
/// </summary>
internal sealed class LocalMatchQuality(Microsoft.Extensions.Options.IOptionsMonitor<MetaConversionsOptions> options) : IConversionObserver
{
    public const int MaxEventNames = 100;

    // Meta's match_key_feedback identifiers and the wire fields they stand for. Meta's examples show email, ip_address,
    // user_agent and external_id; the other names are matched in case Meta uses them (as its Events Manager labels do).
    private static readonly Dictionary<string, string> WireFieldOf = new(StringComparer.OrdinalIgnoreCase)
    {
        ["email"] = "em",
        ["ip_address"] = "client_ip_address",
        ["user_agent"] = "client_user_agent",
        ["external_id"] = "external_id",
        ["phone"] = "ph",
        ["phone_number"] = "ph",
        ["fbc"] = "fbc",
        ["click_id"] = "fbc",
        ["fbp"] = "fbp",
        ["browser_id"] = "fbp",
        ["first_name"] = "fn",
        ["last_name"] = "ln",
        ["city"] = "ct",
        ["state"] = "st",
        ["zip"] = "zp",
        ["zip_code"] = "zp",
        ["country"] = "country",
        ["date_of_birth"] = "db",
        ["gender"] = "ge",
    };

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Tally> _byName = new(StringComparer.Ordinal);

    /// <summary>The wire field (<c>em</c>, <c>client_ip_address</c>...) a Meta identifier stands for, if known.</summary>
    public static string? WireField(string? identifier) =>
        identifier is not null && WireFieldOf.TryGetValue(identifier, out var field) ? field : null;

    void IConversionObserver.Queued(OutboxEntry entry, GraphEvent graphEvent, MatchQuality quality, EventIdSource idSource)
    {
        if (!options.CurrentValue.DatasetQuality.Enabled)
        {
            return;
        }

        lock (_gate)
        {
            if (!_byName.TryGetValue(graphEvent.EventName, out var tally))
            {
                if (_byName.Count >= MaxEventNames)
                {
                    return;
                }

                _byName[graphEvent.EventName] = tally = new Tally();
            }

            tally.Events++;
            tally.ScoreSum += quality.Score;
            foreach (var identifier in quality.Identifiers)
            {
                tally.Identifiers[identifier] = tally.Identifiers.GetValueOrDefault(identifier) + 1;
            }
        }
    }

    /// <summary>The figures for one event name, or null when none was queued.</summary>
    public LocalEventQuality? For(string eventName)
    {
        lock (_gate)
        {
            return _byName.TryGetValue(eventName, out var tally)
                ? new LocalEventQuality(tally.Events, tally.ScoreSum / tally.Events, new Dictionary<string, long>(tally.Identifiers, StringComparer.Ordinal))
                : null;
        }
    }

    private sealed class Tally
    {
        public long Events { get; set; }

        public double ScoreSum { get; set; }

        public Dictionary<string, long> Identifiers { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>The library's estimate for one event name: events queued, their mean score, and events per identifier.</summary>
internal sealed record LocalEventQuality(long Events, double AverageScore, IReadOnlyDictionary<string, long> Identifiers)
{
    /// <summary>The percentage of the events that carried <paramref name="wireField"/>.</summary>
    public double Coverage(string wireField) => Events == 0 ? 0 : 100.0 * Identifiers.GetValueOrDefault(wireField) / Events;
}
