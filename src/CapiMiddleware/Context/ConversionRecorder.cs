using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;
using CapiMiddleware.Hosting;
using CapiMiddleware.Inspector;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Context;

/// <summary>
/// Commits a request's conversion once its action has succeeded: the server's copy goes to the queue, the Pixel's
/// copy to the page (or across the redirect), both with the same event ID. The one place every trigger (MVC filter,
/// page filter, endpoint filter, imperative call) ends up in. Crawlers and visitors without tracking consent
/// (<see cref="TrackingConsent"/>) get neither copy.
/// </summary>
internal sealed class ConversionRecorder
{
    private readonly ConversionQueue _queue;
    private readonly PendingPixelEvents _pending;
    private readonly TrackingConsent _consent;
    private readonly IConversionObserver _observers;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly ILogger<ConversionRecorder> _logger;
    private readonly TimeProvider _time;
    private readonly LogThrottle _browserIdIgnored = new(TimeSpan.FromHours(1));
    private readonly LogThrottle _browserIdOverridden = new(TimeSpan.FromHours(1));
    private int _privateAddressReported;

    public ConversionRecorder(
        ConversionQueue queue,
        PendingPixelEvents pending,
        TrackingConsent consent,
        ConversionObservers observers,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        ILogger<ConversionRecorder> logger)
    {
        _time = time;
        _queue = queue;
        _pending = pending;
        _consent = consent;
        _observers = observers;
        _options = options;
        _logger = logger;
    }

    /// <summary>The recorder, or an error that says how to register it (a set-up mistake, found on the first request).</summary>
    /// <param name="services">The application's or the request's services.</param>
    /// <param name="trigger">What needs it, for the message, such as <c>[MetaConversion]</c>.</param>
    public static ConversionRecorder Require(IServiceProvider services, string trigger) =>
        services.GetService<ConversionRecorder>()
        ?? throw new InvalidOperationException(
            $"{trigger} needs the library's services: call builder.Services.AddMetaConversions(...) in Program.cs.");

    /// <param name="context">The request.</param>
    /// <param name="builder">What the action said about the event.</param>
    /// <param name="redirect">Whether the action answered with a redirect: the Pixel's copy then waits for the next page.</param>
    public async ValueTask CommitAsync(HttpContext context, ConversionEventBuilder builder, bool redirect)
    {
        if (builder.IsCancelled || builder.IsCommitted)
        {
            return;
        }

        builder.IsCommitted = true;
        try
        {
            await CommitCoreAsync(context, builder, redirect).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ex.IsCancellationBy(context.RequestAborted))
        {
            // Reporting a conversion must never fail the purchase it reports.
            Log.CommitFailed(_logger, ex, builder.EventName);
        }
    }

    /// <summary>
    /// Declares a conversion that no filter will commit (<c>HttpContext.MetaConversion("Lead")</c> in code): it is
    /// committed when the response starts with a 2xx or redirect status (so a redirect can still carry the Pixel's copy),
    /// or earlier, when a page renders <c>&lt;meta-pixel /&gt;</c> after the call. Declared after the response has
    /// started, it is committed when the response completes, and only the server's copy is sent.
    /// </summary>
    public ConversionEventBuilder DeclareAwaitingResponse(HttpContext context, string eventName)
    {
        var scope = ConversionScope.Get(context);
        foreach (var declared in scope.Declared)
        {
            if (string.Equals(declared.EventName, eventName, StringComparison.OrdinalIgnoreCase))
            {
                // Names are case-sensitive: "lead" is a custom event, not the declared "Lead". Probably a typo.
                Log.ConversionNameDiffersInCase(_logger, eventName, declared.EventName);
                break;
            }
        }

        var builder = scope.DeclareAwaitingResponse(eventName, MetaRequestContext.Get(context));
        var response = context.Response;
        if (!response.HasStarted)
        {
            if (scope.Hook == ConversionScope.ResponseHook.None)
            {
                scope.Hook = ConversionScope.ResponseHook.OnStarting;
                response.OnStarting(() => CommitAwaitingResponseAsync(context));
            }
        }
        else if (scope.Hook != ConversionScope.ResponseHook.OnCompleted)
        {
            scope.Hook = ConversionScope.ResponseHook.OnCompleted;
            response.OnCompleted(() => CommitAwaitingResponseAsync(context));
        }

        return builder;
    }

    /// <summary>
    /// Commits the conversions declared in code that are still waiting, if the response's status says the request
    /// succeeded; otherwise drops them. Never throws: it runs inside the server's response callbacks.
    /// </summary>
    public async Task CommitAwaitingResponseAsync(HttpContext context)
    {
        var waiting = ConversionScope.Find(context)?.TakeAwaitingResponse();
        if (waiting is not { Length: > 0 })
        {
            return;
        }

        var status = context.Response.StatusCode;
        foreach (var builder in waiting)
        {
            if (!ConversionOutcome.Succeeded(status))
            {
                Log.ConversionNotReported(_logger, builder.EventName, status);
                continue;
            }

            try
            {
                await CommitAsync(context, builder, ConversionOutcome.IsRedirect(status)).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex)
            {
                Log.CommitFailed(_logger, ex, builder.EventName);
            }
        }
    }

    /// <summary>
    /// A page whose HTML is shared between visitors (a cache keeps it) reports nothing for the visitor who happened to
    /// render it: it declares the conversion, without event ID, consent or user data, and each visitor's snippet
    /// reports it with an ID of its own through <c>POST /_capi/events</c>.
    /// </summary>
    private void DeclareForSharedPage(HttpContext context, ConversionEventBuilder builder)
    {
        var custom = GraphEventWriter.CreateCustomData(builder.Data, out var problem);
        if (problem is not null)
        {
            Log.EventInvalid(_logger, builder.EventName, "(shared page)", problem);
            return;
        }

        ConversionScope.Get(context).SharedDeclarations.Add(new PixelEvent(
            PixelEvent.MethodFor(builder.EventName), builder.EventName, "", custom ?? new GraphCustomData())
        {
            PixelIds = builder.PixelIds,
            DataProcessingOptions = PixelDataProcessingOptions.From(builder.DataProcessingOptions),
        });
        _observers.Declared(builder.EventName);
    }

    /// <summary>Says (at most once an hour) when the snippet's event ID was ignored, so the two copies will not deduplicate.</summary>
    private void ReportBrowserEventIdConflicts(ConversionEventBuilder builder)
    {
        if (builder.IgnoredBrowserEventId is not null)
        {
            if (_browserIdIgnored.ShouldLog(_time, out var occurrences))
            {
                Log.BrowserEventIdIgnored(_logger, builder.EventName, occurrences);
            }
        }
        else if (builder.IsBrowserInitiated && builder.EventIdSource == EventIdSource.Server && _browserIdOverridden.ShouldLog(_time, out var occurrences))
        {
            Log.BrowserEventIdOverridden(_logger, builder.EventName, occurrences);
        }
    }

    private async ValueTask CommitCoreAsync(HttpContext context, ConversionEventBuilder builder, bool redirect)
    {
        if (!redirect && !context.Response.HasStarted && SharedPages.IsShared(context))
        {
            DeclareForSharedPage(context, builder);
            return;
        }

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

        ReportBrowserEventIdConflicts(builder);
        var conversion = builder.ToConversionEvent(request);
        if (request.ClientIpAddress is null && request.IsClientAddressPrivate && Interlocked.Exchange(ref _privateAddressReported, 1) == 0)
        {
            Log.PrivateClientAddress(_logger);
        }

        GraphCustomData? pixelData;
        var serverCopyQueued = false;
        if (builder.IsPixelOnly)
        {
            // The server's copy is sent elsewhere (a payment webhook): only the Pixel's, its data checked as for any event.
            pixelData = GraphEventWriter.CreateCustomData(builder.Data, out var problem);
            if (problem is not null)
            {
                Log.EventInvalid(_logger, builder.EventName, builder.EventId, problem);
                return;
            }
        }
        else
        {
            var result = await _queue.EnqueueAsync(conversion, builder.EventId, context.Request.Host.Host, CancellationToken.None).ConfigureAwait(false);
            serverCopyQueued = result.Status == EnqueueStatus.Queued;
            if (result.Event is null || builder.IsBrowserInitiated)
            {
                // Invalid or disabled: neither copy. Browser-initiated: the browser already sent its copy.
                if (result.Event is not null)
                {
                    _observers.HandedToPixel(builder.EventName, builder.EventId, PixelHandover.Browser, null, serverCopyQueued);
                }

                return;
            }

            pixelData = result.Event.CustomData;
        }

        var pixelEvent = new PixelEvent(
            PixelEvent.MethodFor(builder.EventName),
            builder.EventName,
            builder.EventId,
            pixelData ?? new GraphCustomData())
        {
            PixelIds = builder.PixelIds,
            DataProcessingOptions = PixelDataProcessingOptions.From(builder.DataProcessingOptions),
        };

        var scope = ConversionScope.Get(context);
        if (!redirect && !scope.PixelEventsRendered)
        {
            scope.PixelEvents.Add(pixelEvent);
            _observers.HandedToPixel(builder.EventName, builder.EventId, PixelHandover.Page, pixelEvent, serverCopyQueued);
        }
        else if (!context.Response.HasStarted)
        {
            // After a redirect, or on a page whose Pixel data is already written: the next page hands it over.
            _pending.Carry(context, [pixelEvent]);
            _observers.HandedToPixel(builder.EventName, builder.EventId, PixelHandover.Redirect, pixelEvent, serverCopyQueued);
        }

        // Otherwise the response is gone: the server's copy is sent alone.
    }
}
