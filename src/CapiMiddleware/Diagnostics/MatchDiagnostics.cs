using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CapiMiddleware.Events;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// Tells site owners what their events are missing: a Debug line per event with its match quality estimate, the
/// identifier coverage as metrics, and one Warning (not one per event) when purchases or leads arrive without any of
/// email, phone and click ID.
/// </summary>
internal sealed class MatchDiagnostics : IConversionObserver
{
    private static readonly TimeSpan WarningInterval = TimeSpan.FromHours(1);

    private readonly ILogger<MatchDiagnostics> _logger;
    private readonly TimeProvider _time;
    private readonly Counter<long> _identifiers;
    private readonly Counter<long> _bands;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastWarning = new(StringComparer.Ordinal);

    public MatchDiagnostics(ConversionMetrics metrics, ILogger<MatchDiagnostics> logger, TimeProvider time)
    {
        _logger = logger;
        _time = time;
        _identifiers = metrics.Identifiers;
        _bands = metrics.MatchQualityBands;
    }

    /// <summary>Counts the identifiers and the band of each event going into the outbox, and says what it lacks.</summary>
    public void Queued(OutboxEntry entry, GraphEvent graphEvent, MatchQuality quality, EventIdSource idSource)
    {
        if (_identifiers.Enabled)
        {
            foreach (var identifier in quality.Identifiers)
            {
                _identifiers.Add(1, new KeyValuePair<string, object?>("identifier", identifier));
            }
        }

        if (_bands.Enabled)
        {
            _bands.Add(1, new KeyValuePair<string, object?>("band", quality.Band.ToString().ToLowerInvariant()),
                new KeyValuePair<string, object?>("event_name", graphEvent.EventName));
        }

        Log.EventMatchQuality(_logger, graphEvent.EventName, graphEvent.EventId, quality);

        if (quality.LacksStrongIdentifiers && graphEvent.EventName is MetaEventNames.Purchase or MetaEventNames.Lead)
        {
            WarnOnce(graphEvent.EventName);
        }
    }

    private void WarnOnce(string eventName)
    {
        var now = _time.GetUtcNow();
        var last = _lastWarning.GetOrAdd(eventName, DateTimeOffset.MinValue);
        if (now - last >= WarningInterval && _lastWarning.TryUpdate(eventName, now, last))
        {
            Log.WeakIdentifiers(_logger, eventName);
        }
    }
}
