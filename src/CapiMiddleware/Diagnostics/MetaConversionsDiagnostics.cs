namespace CapiMiddleware;

/// <summary>Names under which the library reports its telemetry.</summary>
public static class MetaConversionsDiagnostics
{
    /// <summary>
    /// The name of the library's <see cref="System.Diagnostics.Metrics.Meter"/>: subscribe to it, for example with
    /// OpenTelemetry's <c>AddMeter("CapiMiddleware")</c>. Its instruments are named <c>capimiddleware.*</c>; the repository's
    /// docs/telemetry.md lists them.
    /// </summary>
    public const string MeterName = "CapiMiddleware";

    /// <summary>
    /// The name of the library's <see cref="System.Diagnostics.ActivitySource"/>: one client <c>Activity</c> per batch
    /// sent to Meta, tagged with Graph's <c>fbtrace_id</c>. Subscribe to it, for example with OpenTelemetry's
    /// <c>AddSource("CapiMiddleware")</c>.
    /// </summary>
    public const string ActivitySourceName = "CapiMiddleware";

    /// <summary>
    /// The name the health check added by <c>AddHealthChecks().AddMetaConversions()</c> is registered under, unless
    /// another is given.
    /// </summary>
    public const string HealthCheckName = "MetaConversions";
}
