using CapiMiddleware;
using Microsoft.Extensions.Options;

namespace OfflineImport;

/// <summary>
/// Reads the CSV, hands every good row to <see cref="IConversionQueue"/> (the same normalization, hashing, batching and
/// outbox as web events), reports the rows it skips, then stops the host.
/// </summary>
public sealed partial class OfflineOrderImport(
    IConversionQueue queue,
    IOptions<ImportOptions> options,
    IHostApplicationLifetime lifetime,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<OfflineOrderImport> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ImportAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogFileUnreadable(logger, ex, options.Value.File);
            Environment.ExitCode = 1;
        }
        finally
        {
            // Stopping the host drains the library's queue (within the host's shutdown time-out) before it exits.
            lifetime.StopApplication();
        }
    }

    private async Task ImportAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(environment.ContentRootPath, options.Value.File);
        var now = time.GetUtcNow();
        int lineNumber = 0, queued = 0, skipped = 0;
        await foreach (var line in File.ReadLinesAsync(path, cancellationToken))
        {
            lineNumber++;
            if ((lineNumber == 1 && line.Trim() == OfflineOrder.Header) || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var order = OfflineOrder.TryParse(line, now, out var problem);
            if (order is null)
            {
                LogRowSkipped(logger, lineNumber, problem!);
                skipped++;
                continue;
            }

            // False when the library refuses the event (the warning before this line says why: too old, no customer
            // field left...) or cannot store it.
            if (await queue.EnqueueAsync(order.ToConversionEvent(), cancellationToken))
            {
                queued++;
            }
            else
            {
                LogOrderRefused(logger, lineNumber, order.OrderId);
                skipped++;
            }
        }

        LogImported(logger, queued, skipped, path);
    }

    [LoggerMessage(1, LogLevel.Warning, "Line {Line} skipped: {Problem}.")]
    private static partial void LogRowSkipped(ILogger logger, int line, string problem);

    [LoggerMessage(2, LogLevel.Warning, "Line {Line} skipped: order {OrderId} was not queued (see the warning above).")]
    private static partial void LogOrderRefused(ILogger logger, int line, string orderId);

    [LoggerMessage(3, LogLevel.Information, "Queued {Queued} offline orders from {Path}; skipped {Skipped}. Sending what is queued, then exiting.")]
    private static partial void LogImported(ILogger logger, int queued, int skipped, string path);

    [LoggerMessage(4, LogLevel.Error, "Could not read {File}.")]
    private static partial void LogFileUnreadable(ILogger logger, Exception exception, string file);
}
