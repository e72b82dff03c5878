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
/// endpoint filter, imperative call) ends up in. Crawlers and visitors without tracking consent
/// (<see cref="TrackingConsent"/>) get neither copy.
/// </summary>
internal sealed class ConversionRecorder
{
    private readonly ConversionQueue _queue;
    private readonly PendingPixelEvents _pending;
    private readonly TrackingConsent _consent;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly ILogger<ConversionRecorder> _logger;
    private int _privateAddressReported;

    public ConversionRecorder(
        ConversionQueue queue,
        PendingPixelEvents pending,
        TrackingConsent consent,
        IOptionsMonitor<MetaConversionsOptions> options,
        ILogger<ConversionRecorder> logger)
    {
        _queue = queue;
        _pending = pending;
        _consent = consent;
        _options = options;
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
        switch (_consent.Decide(context))
        {
            case TrackingDecision.NoConsent:
                Log.EventNotTracked(_logger, builder.EventName, "the visitor has not consented to tracking");
                return;
            case TrackingDecision.Crawler:
                Log.EventNotTracked(_logger, builder.EventName, "the request comes from a crawler");
                return;
        }

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
            DataProcessingOptions = PixelDataProcessingOptions.From(builder.DataProcessingOptions),
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
