using CapiMiddleware.Cookies;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Events;
using CapiMiddleware.FollowUps;
using CapiMiddleware.Identity;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Hosting;

/// <summary>
/// Does at start-up, once, what the first visitor would otherwise wait for: the Public Suffix List that the cookies'
/// domain comes from, and one made-up event through the queue's code (pixel routing, URL scrubbing, normalization,
/// hashing, the match-quality estimate, the JSON writer, the memory store), so that it is compiled before the first
/// checkout. The event goes to a queue of its own, with no observer, into a store of its own that is then dropped: it
/// is never counted, logged, remembered or sent. A failure here is logged and the app starts as it would have: each
/// part is built again on first use.
/// </summary>
/// <remarks>Measured with the harness's <c>-- first</c> mode (docs/performance.md, "The first checkout after a deploy").</remarks>
internal sealed class LibraryWarmUp(
    IOptionsMonitor<MetaConversionsOptions> options,
    TimeProvider time,
    StaleEntries stale,
    CapturedIdentities identities,
    SentEvents sentEvents,
    ILogger<LibraryWarmUp> logger) : IHostedService
{
    /// <summary>The made-up event's name: no site lists it in <c>FollowUps:Events</c>, so it is not remembered either.</summary>
    internal const string EventName = "CapiMiddlewareWarmUp";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.CurrentValue.Enabled)
        {
            return;
        }

        try
        {
            _ = PublicSuffixList.Default;
            var warmUp = new ConversionEvent(EventName)
            {
                EventSourceUrl = "https://warm-up.invalid/checkout?step=pay",
                UserData =
                {
                    Email = "Warm.Up@Example.invalid", Phone = "+1 (650) 555-0100", FirstName = "Warm", LastName = "Up",
                    Gender = "f", DateOfBirth = "1990-01-31", City = "Menlo Park", State = "CA", Zip = "94025", Country = "US",
                    ExternalId = "warm-up", ClickId = "fb.1.1700000000000.WarmUp", BrowserId = "fb.1.1700000000000.1234567890",
                    ClientIpAddress = "203.0.113.1", ClientUserAgent = "Mozilla/5.0 (warm-up)",
                },
                CustomData = { Value = 1m, Currency = "USD", OrderId = "warm-up", Contents = { new Content("warm-up", 1, 1m) } },
            };
            var ownStore = new MemoryOutboxStore(options, time, stale);
            var ownQueue = new ConversionQueue(ownStore, options, time, new ConversionObservers([]), identities, sentEvents);
            await ownQueue.EnqueueAsync(warmUp, "warm-up", host: null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ex.IsCancellationBy(cancellationToken))
        {
            Log.WarmUpFailed(logger, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
