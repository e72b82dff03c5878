namespace CapiMiddleware;

/// <summary>Names under which the library reports its telemetry.</summary>
public static class MetaConversionsDiagnostics
{
    /// <summary>
    /// The name of the library's <see cref="System.Diagnostics.Metrics.Meter"/>: subscribe to it, for example with
    /// OpenTelemetry's <c>AddMeter("CapiMiddleware")</c>.
    /// </summary>
    public const string MeterName = "CapiMiddleware";
}
