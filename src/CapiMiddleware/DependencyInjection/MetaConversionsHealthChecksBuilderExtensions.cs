using CapiMiddleware;
using CapiMiddleware.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Meta Conversions API health check.</summary>
public static class MetaConversionsHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check that reports how sending to Meta goes in this process. It is
    /// <see cref="HealthStatus.Healthy"/> while Meta accepts the events sent, and also before anything was sent, without
    /// an access token (nothing is sent then) and while the library is off. It is <see cref="HealthStatus.Degraded"/>
    /// while sends fail temporarily (network errors, time-outs, HTTP 5xx or 429, Graph's temporary codes; the events are
    /// kept and sent again) or the outbox store cannot be read, and, with Dataset Quality floors set
    /// (<see cref="DatasetQualityOptions.MinimumMatchQuality"/>, <see cref="DatasetQualityOptions.MinimumEventCoverage"/>),
    /// while Meta reports an event below one or its figures are older than three intervals. It reports <paramref name="failureStatus"/> while Meta
    /// refuses the access token (code 190) or a permission (codes 10, 200-299), until a send is accepted again. Its data
    /// holds the queue depth, the last success, and the last failure as Graph described it; never the token.
    /// </summary>
    /// <remarks>
    /// Call <c>services.AddMetaConversions(...)</c> too; without it the check reports <paramref name="failureStatus"/>
    /// and says so. A rejected token is not fixed by restarting the process: when a liveness probe restarts unhealthy
    /// instances, pass <see cref="HealthStatus.Degraded"/> as <paramref name="failureStatus"/>, or give the check a tag
    /// and leave it out of that probe.
    /// </remarks>
    /// <param name="builder">The health checks builder, from <c>services.AddHealthChecks()</c>.</param>
    /// <param name="name">The check's name. The default value is <see cref="MetaConversionsDiagnostics.HealthCheckName"/> (<c>MetaConversions</c>).</param>
    /// <param name="failureStatus">
    /// What a refused token or permission is reported as. The default value is <see langword="null"/>:
    /// <see cref="HealthStatus.Unhealthy"/>.
    /// </param>
    /// <param name="tags">Tags to filter checks by, for example in <c>HealthCheckOptions.Predicate</c>. The default value is none.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHealthChecksBuilder AddMetaConversions(
        this IHealthChecksBuilder builder,
        string name = MetaConversionsDiagnostics.HealthCheckName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            static services => (IHealthCheck?)services.GetService<MetaConversionsHealthCheck>() ?? ServicesMissing.Instance,
            failureStatus,
            tags));
    }

    private sealed class ServicesMissing : IHealthCheck
    {
        public static readonly ServicesMissing Instance = new();

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(new HealthCheckResult(
                context.Registration?.FailureStatus ?? HealthStatus.Unhealthy,
                "services.AddMetaConversions(...) was not called, so nothing is sent to Meta."));
    }
}
