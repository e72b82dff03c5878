using CapiMiddleware;
using Microsoft.Extensions.Options;

namespace OfflineImport;

/// <summary>
/// Reads the CSV of offline orders, then the CRM's export of lead stage changes, hands every good row to
/// <see cref="IConversionQueue"/> (the same normalization, hashing, batching and outbox as web events), reports the rows
/// it skips, then stops the host.
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
        var import = options.Value;
        var (queued, skipped, path) = await ImportFileAsync(
            import.File, OfflineOrder.Header, OfflineOrder.TryParse, o => o.ToConversionEvent(), o => $"order {o.OrderId}", cancellationToken);
        LogImported(logger, queued, "offline orders", path, skipped);
        if (!string.IsNullOrEmpty(import.CrmFile))
        {
            (queued, skipped, path) = await ImportFileAsync(
                import.CrmFile, CrmStageChange.Header, CrmStageChange.TryParse, c => c.ToConversionEvent(import.CrmName), c => $"{c.Stage} of lead {c.LeadId}", cancellationToken);
            LogImported(logger, queued, "CRM stage changes", path, skipped);
        }
    }

    /// <summary>Queues every good row of one CSV file; reports the rows it skips by line number.</summary>
    private async Task<(int Queued, int Skipped, string Path)> ImportFileAsync<T>(
        string file,
        string header,
        Parse<T> parse,
        Func<T, ConversionEvent> toEvent,
        Func<T, string> describe,
        CancellationToken cancellationToken)
        where T : class
    {
        var path = Path.Combine(environment.ContentRootPath, file);
        var now = time.GetUtcNow();
        int lineNumber = 0, queued = 0, skipped = 0;
        await foreach (var line in File.ReadLinesAsync(path, cancellationToken))
        {
            lineNumber++;
            if ((lineNumber == 1 && line.Trim() == header) || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var row = parse(line, now, out var problem);
            if (row is null)
            {
                LogRowSkipped(logger, lineNumber, problem!);
                skipped++;
                continue;
            }

            // False when the library refuses the event (the warning before this line says why: too old, no customer
            // field left...) or cannot store it.
            if (await queue.EnqueueAsync(toEvent(row), cancellationToken))
            {
                queued++;
            }
            else
            {
                LogRowRefused(logger, lineNumber, describe(row));
                skipped++;
            }
        }

        return (queued, skipped, path);
    }

    private delegate T? Parse<T>(string line, DateTimeOffset now, out string? problem);

    [LoggerMessage(1, LogLevel.Warning, "Line {Line} skipped: {Problem}.")]
    private static partial void LogRowSkipped(ILogger logger, int line, string problem);

    [LoggerMessage(2, LogLevel.Warning, "Line {Line} skipped: {Row} was not queued (see the warning above).")]
    private static partial void LogRowRefused(ILogger logger, int line, string row);

    [LoggerMessage(3, LogLevel.Information, "Queued {Queued} {What} from {Path}; skipped {Skipped}. Sending what is queued, then exiting.")]
    private static partial void LogImported(ILogger logger, int queued, string what, string path, int skipped);

    [LoggerMessage(4, LogLevel.Error, "Could not read {File}.")]
    private static partial void LogFileUnreadable(ILogger logger, Exception exception, string file);
}
