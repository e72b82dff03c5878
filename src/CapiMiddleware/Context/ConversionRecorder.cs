using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Context;

/// <summary>
/// Commits a request's conversion once its action has succeeded: the server's copy goes to the queue, the Pixel's
/// copy to the page (or across the redirect), both with the same event ID. The one place every trigger (MVC filter,
/// endpoint filter, imperative call) ends up in.
/// </summary>
internal sealed class ConversionRecorder
{
    private readonly ConversionQueue _queue;
    private readonly PendingPixelEvents _pending;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly PixelReach _reach;
    private readonly ILogger<ConversionRecorder> _logger;
    private int _privateAddressReported;

    public ConversionRecorder(
        ConversionQueue queue,
        PendingPixelEvents pending,
        IOptionsMonitor<MetaConversionsOptions> options,
        PixelReach reach,
        ILogger<ConversionRecorder> logger)
    {
        _queue = queue;
        _pending = pending;
        _options = options;
        _reach = reach;
        _logger = logger;
    }

    /// <param name="context">The request.</param>
    /// <param name="builder">What the action said about the event.</param>
    /// <param name="redirect">Whether the action answered with a redirect: the Pixel's copy then waits for the next page.</param>
    public async ValueTask CommitAsync(HttpContext context, ConversionEventBuilder builder, bool redirect)
    {
        if (builder.IsCancelled)
        {
            return;
        }

        try
        {
            await CommitCoreAsync(context, builder, redirect).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Reporting a conversion must never fail the purchase it reports.
            Log.CommitFailed(_logger, ex, builder.EventName);
        }
    }

    private async ValueTask CommitCoreAsync(HttpContext context, ConversionEventBuilder builder, bool redirect)
    {
        var request = MetaRequestContext.Get(context);
        if (_options.CurrentValue.FillUserDataFromClaims)
        {
            SignedInUser.Fill(builder.User, context.User);
        }

        var conversion = builder.ToConversionEvent(request);
        if (request.ClientIpAddress is null && request.IsClientAddressPrivate && Interlocked.Exchange(ref _privateAddressReported, 1) == 0)
        {
            Log.PrivateClientAddress(_logger);
        }

        var result = await _queue.EnqueueAsync(conversion, builder.EventId, context.Request.Host.Host, CancellationToken.None).ConfigureAwait(false);
        if (result.Status == EnqueueStatus.Queued)
        {
            // The server's copy is on its way; a beacon from the page will tell whether the browser's was too.
            _reach.Expect(builder.EventId, builder.EventName);
        }

        if (result.Event is null || builder.IsBrowserInitiated)
        {
            // Invalid or disabled: neither copy. Browser-initiated: the browser already sent its copy.
            return;
        }

        var pixelEvent = new PixelEvent(
            PixelEvent.MethodFor(builder.EventName),
            builder.EventName,
            builder.EventId,
            result.Event.CustomData ?? new GraphCustomData())
        {
            PixelIds = builder.PixelIds,
        };

        if (redirect)
        {
            _pending.Carry(context, [pixelEvent]);
        }
        else
        {
            ConversionScope.Get(context).PixelEvents.Add(pixelEvent);
        }
    }
}
