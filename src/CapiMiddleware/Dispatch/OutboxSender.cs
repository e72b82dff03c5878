using CapiMiddleware.Diagnostics;
using CapiMiddleware.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Dispatch;

/// <summary>
/// The background loop above the outbox store: leases batches, sends them, and acts on Meta's answer, which it tells the
/// observers (<see cref="ConversionObservers"/>). Written once for every store. Requests never wait on it.
/// </summary>
internal sealed class OutboxSender : BackgroundService
{
    private static readonly TimeSpan TokenErrorInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan SenderFailurePause = TimeSpan.FromSeconds(5);

    private readonly IOutboxStore _store;
    private readonly GraphApiClient _graph;
    private readonly LogOnlyTransport _logOnly;
    private readonly DeliveryTelemetry _telemetry;
    private readonly IConversionObserver _observers;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<OutboxSender> _logger;
    private readonly CancellationTokenSource _abandon = new();
    private readonly LogThrottle _failing = new(LogThrottle.PerMinute); // a store down for an hour: 60 lines, not 720
    private DateTimeOffset _lastTokenError = DateTimeOffset.MinValue;
    private MetaConversionsOptions? _pausedFor;

    public OutboxSender(
        IOutboxStore store,
        GraphApiClient graph,
        LogOnlyTransport logOnly,
        DeliveryTelemetry telemetry,
        ConversionObservers observers,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        ILogger<OutboxSender> logger)
    {
        _store = store;
        _graph = graph;
        _logOnly = logOnly;
        _telemetry = telemetry;
        _observers = observers;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Drain until the host's shutdown time-out; then abandon the send in flight.
        using var registration = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _abandon);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (!_store.IsDurable && await _store.CountAsync(CancellationToken.None).ConfigureAwait(false) is > 0 and var lost)
        {
            Log.EventsLostAtShutdown(_logger, lost);
        }
    }

    public override void Dispose()
    {
        _abandon.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await WaitForEntriesAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await WaitWhileTokenRejectedAsync(stoppingToken).ConfigureAwait(false);
                    var options = _options.CurrentValue;
                    var batch = await _store.LeaseAsync(options.BatchSize, options.FlushInterval, stoppingToken).ConfigureAwait(false);
                    await SendAsync(batch, options, _abandon.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (!ex.IsCancellationBy(stoppingToken))
                {
                    // A failing store or a bug must not stop the host (the default for a failed BackgroundService):
                    // say so, pause, and go on.
                    ReportFailure(ex);
                    await Task.Delay(SenderFailurePause, _time, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: drain below.
        }

        try
        {
            await DrainAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (!ex.IsCancellationBy(_abandon.Token))
        {
            // A durable store keeps what could not be drained. Said even within a minute of the last failure said.
            _failing.ShouldLog(_time, out var failures);
            Log.SenderFailed(_logger, ex, failures);
        }
    }

    /// <summary>Logs a failure of the store or of a send, at most once a minute, with the count so far.</summary>
    private void ReportFailure(Exception exception)
    {
        if (_failing.ShouldLog(_time, out var failures))
        {
            Log.SenderFailed(_logger, exception, failures);
        }
    }

    /// <summary>The store's wait, where a failing store (Redis unreachable) is reported and waited out, like a failing lease.</summary>
    private async Task<bool> WaitForEntriesAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                return await _store.WaitForEntriesAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!ex.IsCancellationBy(stoppingToken))
            {
                ReportFailure(ex);
                await Task.Delay(SenderFailurePause, _time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task DrainAsync()
    {
        while (!_abandon.IsCancellationRequested)
        {
            var options = _options.CurrentValue;
            var batch = await _store.LeaseAsync(options.BatchSize, TimeSpan.Zero, _abandon.Token).ConfigureAwait(false);
            if (batch.Count == 0 || _pausedFor is not null)
            {
                if (batch.Count > 0)
                {
                    await _store.RetryLaterAsync(batch, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                }

                return;
            }

            await SendAsync(batch, options, _abandon.Token).ConfigureAwait(false);
        }
    }

    internal async Task SendAsync(IReadOnlyList<OutboxEntry> batch, MetaConversionsOptions options, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        // Usually one pixel; group only when a batch mixes them.
        var pixelId = batch[0].PixelId;
        var mixed = false;
        for (var i = 1; i < batch.Count && !mixed; i++)
        {
            mixed = batch[i].PixelId != pixelId;
        }

        if (!mixed)
        {
            await SendToPixelAsync(pixelId, batch, options, cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (var group in batch.GroupBy(e => e.PixelId, StringComparer.Ordinal))
        {
            await SendToPixelAsync(group.Key, [.. group], options, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SendToPixelAsync(string pixelId, IReadOnlyList<OutboxEntry> batch, MetaConversionsOptions options, CancellationToken cancellationToken)
    {
        var routing = PixelRouting.For(options);
        var pixel = routing.ForPixel(pixelId);
        IConversionTransport transport = pixel.SendsToMeta ? _graph : _logOnly;
        using var telemetry = _telemetry.StartSend(pixelId, batch.Count, pixel.SendsToMeta);
        GraphSendResult result;
        try
        {
            result = await transport.SendAsync(pixel, batch, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ex.IsCancellationBy(cancellationToken))
        {
            // Whatever went wrong, the leased entries go back to the store rather than vanish.
            result = GraphSendResult.TransientFailure($"{ex.GetType().Name}: {ex.Message}");
        }

        telemetry.Complete(result, batch);
        _observers.Delivered(pixelId, batch, result, pixel.SendsToMeta);
        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                await _store.AcknowledgeAsync(batch, CancellationToken.None).ConfigureAwait(false);
                break;

            case SendOutcome.InvalidEvents when batch.Count > 1:
                // One invalid event makes Meta refuse the whole batch: halve it until the offenders are alone.
                var half = batch.Count / 2;
                await SendToPixelAsync(pixelId, Slice(batch, 0, half), options, cancellationToken).ConfigureAwait(false);
                await SendToPixelAsync(pixelId, Slice(batch, half, batch.Count - half), options, cancellationToken).ConfigureAwait(false);
                break;

            case SendOutcome.InvalidEvents:
            case SendOutcome.Rejected:
                await _store.DeadLetterAsync(batch, result.Describe(), CancellationToken.None).ConfigureAwait(false);
                break;

            case SendOutcome.TokenRejected:
            case SendOutcome.PermissionDenied:
                await ReportTokenProblemAsync(result, pixel).ConfigureAwait(false);
                if (routing.HasSeveral)
                {
                    // Only this pixel's token is refused: its events wait for the next probe, the other pixels go on.
                    await _store.RetryLaterAsync(batch, options.TokenProbeInterval, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    _pausedFor = options;
                    await _store.RetryLaterAsync(batch, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                }

                break;

            case SendOutcome.Cancelled:
                await _store.RetryLaterAsync(batch, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                break;

            default:
                foreach (var entry in batch)
                {
                    entry.FailedAttempts++;
                }

                var delay = result.RetryAfter is { } retryAfter && retryAfter > options.RequeueDelay ? retryAfter : options.RequeueDelay;
                Log.BatchDeferred(_logger, batch.Count, pixelId, delay, result.Describe());
                await _store.RetryLaterAsync(batch, delay, CancellationToken.None).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>
    /// While Meta refuses the token, nothing is sent and everything is kept; sending resumes when the options change
    /// (a new token) or, once a minute, to probe whether the token works again.
    /// </summary>
    private async Task WaitWhileTokenRejectedAsync(CancellationToken stoppingToken)
    {
        if (_pausedFor is null)
        {
            return;
        }

        var until = _time.GetUtcNow() + _pausedFor.TokenProbeInterval;
        var step = _pausedFor.TokenProbeInterval < TimeSpan.FromSeconds(1) ? _pausedFor.TokenProbeInterval : TimeSpan.FromSeconds(1);
        while (ReferenceEquals(_options.CurrentValue, _pausedFor) && _time.GetUtcNow() < until)
        {
            await Task.Delay(step, _time, stoppingToken).ConfigureAwait(false);
        }

        _pausedFor = null;
    }

    private async Task ReportTokenProblemAsync(GraphSendResult result, PixelRoute pixel)
    {
        var now = _time.GetUtcNow();
        if (now - _lastTokenError < TokenErrorInterval)
        {
            return;
        }

        _lastTokenError = now;
        var fix = result.Outcome == SendOutcome.TokenRejected
            ? $"The access token of pixel {pixel.PixelId} is expired or invalid: generate a new one in Events Manager and set {pixel.TokenSetting}."
            : $"The access token ({pixel.TokenSetting}) lacks a permission for pixel {pixel.PixelId}: check the system user's access to the dataset in Business Settings.";
        Log.TokenProblem(_logger, fix, result.Describe(), await _store.CountAsync(CancellationToken.None).ConfigureAwait(false));
    }

    private static OutboxEntry[] Slice(IReadOnlyList<OutboxEntry> batch, int start, int count)
    {
        var slice = new OutboxEntry[count];
        for (var i = 0; i < count; i++)
        {
            slice[i] = batch[start + i];
        }

        return slice;
    }
}
