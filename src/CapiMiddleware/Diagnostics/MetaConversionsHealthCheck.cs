using System.Globalization;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// The health check behind <c>AddHealthChecks().AddMetaConversions()</c>: how sending to Meta goes in this process
/// (<see cref="DeliveryHealth"/>), with the outbox's depth (<see cref="QueueDepth"/>).
/// </summary>
/// <remarks>
/// Healthy while Meta accepts batches, before anything was sent, without an access token (nothing is sent) and when
/// the library is off. Degraded while a durable outbox store fails or answers late and events wait in the memory
/// fallback (<see cref="FallbackOutboxStore"/>: the description names the store and the count), while sends fail
/// temporarily (events are kept and sent again) or the outbox store cannot be read. The registration's failure status (Unhealthy unless chosen otherwise) while Meta refuses the token or
/// a permission, until a send is accepted again. The data carries no secret: counts, times, and Graph's own description
/// of the last failure. With Dataset Quality floors set (<see cref="DatasetQualityOptions"/>), Degraded while Meta reports
/// an event below one, or while Meta's figures are older than three intervals; a failed fetch alone never makes it worse.
/// </remarks>
internal sealed class MetaConversionsHealthCheck : IHealthCheck
{
    private readonly DeliveryHealth _health;
    private readonly QueueDepth _queueDepth;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly FallbackOutboxStore? _fallback;
    private readonly DatasetQuality.DatasetQualityReports? _datasetQuality;

    public MetaConversionsHealthCheck(
        DeliveryHealth health,
        QueueDepth queueDepth,
        IOptionsMonitor<MetaConversionsOptions> options,
        IOutboxStore store,
        DatasetQuality.DatasetQualityReports? datasetQuality = null)
    {
        _datasetQuality = datasetQuality;
        _health = health;
        _queueDepth = queueDepth;
        _options = options;
        _fallback = store as FallbackOutboxStore;
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var options = _options.CurrentValue;
        if (!options.Enabled)
        {
            return HealthCheckResult.Healthy("Off: MetaConversions:Enabled is false.");
        }

        var fallback = _fallback is null ? (FallbackOutboxStore.Status?)null : await _fallback.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        var depth = await _queueDepth.ReadAsync(cancellationToken).ConfigureAwait(false);
        var state = _health.Current;
        var data = Data(depth, state);
        if (fallback is { } held)
        {
            data["fallback_count"] = held.Held + held.LateWrites;
            if (held.Breaker.OpenSince is { } down)
            {
                data["store_unavailable_since"] = down;
            }
        }

        // Meta's own figures below a floor the site set: Degraded, never worse (sending itself works).
        var datasetQuality = _datasetQuality?.HealthProblem(options);
        if (datasetQuality is not null)
        {
            data["dataset_quality"] = datasetQuality;
        }

        if (!options.SendsToMeta)
        {
            return datasetQuality is null
                ? HealthCheckResult.Healthy("No MetaConversions:AccessToken is set: events are written to the log, not sent.", data)
                : HealthCheckResult.Degraded(datasetQuality, data: data);
        }

        if (state.Paused is { } paused)
        {
            var problem = paused == SendOutcome.TokenRejected
                ? "Meta refuses the access token (expired or invalid)"
                : "the access token lacks a permission for this pixel";
            return new HealthCheckResult(
                context.Registration?.FailureStatus ?? HealthStatus.Unhealthy,
                $"Sending is paused: {problem}. Events are kept. {state.LastFailure}",
                data: data);
        }

        if (fallback is { } status && StoreProblem(status) is { } storeProblem)
        {
            return HealthCheckResult.Degraded(storeProblem, data: data);
        }

        if (state.FailingSince is { } since)
        {
            return HealthCheckResult.Degraded(
                string.Create(CultureInfo.InvariantCulture,
                    $"Sending to Meta fails: {state.ConsecutiveFailures} failed sends since {since:u}. Events are kept and sent again. Last failure: {state.LastFailure}"),
                data: data);
        }

        if (depth.Failure is { } failure)
        {
            return HealthCheckResult.Degraded($"The outbox store cannot be read ({failure}).", data: data);
        }

        if (datasetQuality is not null)
        {
            return HealthCheckResult.Degraded(datasetQuality, data: data);
        }

        return HealthCheckResult.Healthy(state.LastSuccess is null ? "Nothing sent yet." : "Meta accepts the events sent.", data);
    }

    /// <summary>What to say while the durable store is skipped, or events still wait outside it.</summary>
    private string? StoreProblem(FallbackOutboxStore.Status status)
    {
        var store = _fallback!.StoreName;
        var waiting = string.Create(CultureInfo.InvariantCulture, $"{status.Held} events wait in the {_fallback.FallbackName} fallback")
            + (status.LateWrites > 0 ? string.Create(CultureInfo.InvariantCulture, $" and {status.LateWrites} in writes to {store} still under way") : "");
        if (status.Breaker.OpenSince is { } since)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"The {store} outbox store is unavailable since {since:u} ({status.Breaker.ConsecutiveFailures} failed or late writes, last: {status.Breaker.LastFailure}): {waiting}; they move to {store} once it takes events again.");
        }

        return status.Held + status.LateWrites > 0
            ? $"The {store} outbox store failed or answered late: {waiting}; they move to {store} as it takes them."
            : null;
    }

    private static Dictionary<string, object> Data(QueueDepth.Reading depth, DeliveryState state)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        if (depth.Count is { } count)
        {
            data["queue_depth"] = count;
        }

        if (state.LastSuccess is { } success)
        {
            data["last_success"] = success;
        }

        if (state.FailingSince is { } since)
        {
            data["failing_since"] = since;
            data["consecutive_failures"] = state.ConsecutiveFailures;
        }

        if (state.LastFailure is { } failure)
        {
            data["last_failure"] = failure;
            data["last_failure_at"] = state.LastFailureAt!.Value;
        }

        return data;
    }
}
