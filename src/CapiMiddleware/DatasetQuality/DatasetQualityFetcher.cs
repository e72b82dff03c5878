using CapiMiddleware.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.DatasetQuality;

/// <summary>
/// Fetches each configured pixel's Dataset Quality figures while <c>MetaConversions:DatasetQuality:Enabled</c> is on:
/// at start, then every <see cref="DatasetQualityOptions.Interval"/>, on the application's <see cref="TimeProvider"/>.
/// Never on a request's way. After a failure it backs off exponentially (<see cref="NextDelay"/>) and says so once per
/// kind of failure, without the token; a success after failures is said once too.
/// </summary>
/// <remarks>
/// Each pixel keeps its own schedule (an absolute due time, so a clock advanced past it fetches at once). Every node of
/// a web farm fetches for itself: at the default interval that is one read call per pixel, node and hour, a small share
/// of the Marketing API's rate limit (reads cost 1 point; the development tier allows 60 per 5 minutes).
/// </remarks>
internal sealed class DatasetQualityFetcher : BackgroundService
{
    private readonly DatasetQualityClient _client;
    private readonly DatasetQualityReports _reports;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DatasetQualityFetcher> _logger;
    private readonly HashSet<string> _saidNoToken = new(StringComparer.Ordinal);
    private readonly IDisposable? _onChange;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _saidOn;

    public DatasetQualityFetcher(
        DatasetQualityClient client,
        DatasetQualityReports reports,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        ILogger<DatasetQualityFetcher> logger)
    {
        _client = client;
        _reports = reports;
        _options = options;
        _time = time;
        _logger = logger;
        _onChange = options.OnChange(_ => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _reports.StartedAt = _time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = Volatile.Read(ref _changed).Task;
            DateTimeOffset? due;
            try
            {
                due = await RoundAsync(_options.CurrentValue, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Never stops the host: a bug here costs the figures, not the application.
                Log.DatasetQualityRoundFailed(_logger, ex);
                due = _time.GetUtcNow() + DatasetQualityDefaults.RetryBaseDelay;
            }

            await WaitAsync(due, changed, stoppingToken).ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _onChange?.Dispose();
        base.Dispose();
    }

    /// <summary>Fetches every pixel that is due; returns when the next one is (null: none until the options change).</summary>
    internal async Task<DateTimeOffset?> RoundAsync(MetaConversionsOptions options, CancellationToken cancellationToken)
    {
        var settings = options.DatasetQuality;
        if (!options.Enabled || !settings.Enabled)
        {
            _saidOn = false;
            return null;
        }

        var routes = Dispatch.PixelRouting.For(options).Configured;
        if (!_saidOn)
        {
            _saidOn = true;
            Log.DatasetQualityOn(_logger, routes.Count, settings.Interval);
        }

        DateTimeOffset? nextDue = null;
        foreach (var route in routes)
        {
            var token = DatasetQualityReports.TokenFor(options, route);
            var state = _reports.Get(route.PixelId) ?? PixelQuality.NotFetched(route.PixelId, token is not null);
            if (token is null)
            {
                _reports.Set(state with { HasToken = false, NextAttemptAt = null });
                if (_saidNoToken.Add(route.PixelId))
                {
                    Log.DatasetQualityNoToken(_logger, route.PixelId);
                }

                continue;
            }

            var due = state.NextAttemptAt ?? _time.GetUtcNow();
            if (due <= _time.GetUtcNow())
            {
                state = await FetchAsync(options, route.PixelId, token, DatasetQualityReports.AppSecretFor(options, route), state with { HasToken = true }, cancellationToken)
                    .ConfigureAwait(false);
                due = state.NextAttemptAt!.Value;
            }

            nextDue = nextDue is { } earlier && earlier < due ? earlier : due;
        }

        return nextDue;
    }

    private async Task<PixelQuality> FetchAsync(MetaConversionsOptions options, string pixelId, string token, string? appSecret, PixelQuality state, CancellationToken cancellationToken)
    {
        var result = await _client.FetchAsync(options, pixelId, token, appSecret, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var interval = options.DatasetQuality.Interval;
        PixelQuality next;
        if (result.Report is { } report)
        {
            if (state.ConsecutiveFailures > 0)
            {
                Log.DatasetQualityRecovered(_logger, pixelId, state.ConsecutiveFailures);
            }

            Log.DatasetQualityFetched(_logger, pixelId, report.Web?.Count ?? 0);
            next = state with
            {
                Report = report,
                FetchedAt = now,
                LastAttemptAt = now,
                NextAttemptAt = now + interval,
                LastError = null,
                LastFailure = FetchFailure.None,
                ConsecutiveFailures = 0,
            };
        }
        else
        {
            var failures = state.ConsecutiveFailures + 1;
            var delay = NextDelay(result.Failure, failures, interval, result.RetryAfter, Random.Shared.NextDouble());
            if (result.Failure != state.LastFailure)
            {
                Log.DatasetQualityFailed(_logger, pixelId, result.Problem!, delay);
            }
            else
            {
                Log.DatasetQualityStillFailing(_logger, pixelId, failures, result.Problem!, delay);
            }

            next = state with
            {
                LastAttemptAt = now,
                NextAttemptAt = now + delay,
                LastError = result.Problem,
                LastFailure = result.Failure,
                ConsecutiveFailures = failures,
            };
        }

        _reports.Set(next);
        return next;
    }

    /// <summary>
    /// The wait after the <paramref name="failures"/>th failure in a row: from 1 minute (5 when throttled, one interval
    /// when the token or a permission is refused, which only the site can fix), doubling each time, within ±10 % jitter
    /// (<paramref name="random"/> from 0 to 1), at least Meta's <c>Retry-After</c>, at most 4 intervals.
    /// </summary>
    internal static TimeSpan NextDelay(FetchFailure failure, int failures, TimeSpan interval, TimeSpan? retryAfter, double random)
    {
        var first = failure switch
        {
            FetchFailure.Throttled => DatasetQualityDefaults.ThrottledBaseDelay,
            FetchFailure.TokenRejected or FetchFailure.PermissionDenied or FetchFailure.Rejected => interval,
            _ => DatasetQualityDefaults.RetryBaseDelay,
        };
        var longest = interval * DatasetQualityDefaults.MaxBackoffIntervals;
        var delay = first * Math.Pow(2, Math.Min(failures - 1, 16)) * (0.9 + (random * 0.2));
        if (retryAfter is { } asked && asked > delay)
        {
            delay = asked;
        }

        return delay < longest ? delay : longest;
    }

    /// <summary>Waits until <paramref name="due"/> on the app's clock (forever when null), the options change, or the host stops.</summary>
    private async Task WaitAsync(DateTimeOffset? due, Task changed, CancellationToken stoppingToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = due is { } at
            ? Task.Delay(at - _time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero, _time, cancel.Token)
            : Task.Delay(Timeout.InfiniteTimeSpan, cancel.Token);

        // A clock moved on between reading it and setting the timer would set it too late: look again once it is set.
        if (due is not { } dueAt || _time.GetUtcNow() < dueAt)
        {
            await Task.WhenAny(delay, changed).ConfigureAwait(false);
        }

        await cancel.CancelAsync().ConfigureAwait(false);
        await delay.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
    }
}
