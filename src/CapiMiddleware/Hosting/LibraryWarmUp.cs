using CapiMiddleware.Cookies;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Hosting;

/// <summary>
/// Does at start-up, once, what the first visitor would otherwise wait for: the Public Suffix List that the cookies'
/// domain comes from, and one made-up event through normalization, hashing, the match-quality estimate and the JSON
/// writer, so that their code is compiled before the first checkout. The event is never queued or sent. A failure here
/// is logged and the app starts as it would have: each part is built again on first use.
/// </summary>
/// <remarks>Measured with the harness's <c>-- first</c> mode (docs/performance.md, "The first checkout after a deploy").</remarks>
internal sealed class LibraryWarmUp(IOptionsMonitor<MetaConversionsOptions> options, TimeProvider time, ILogger<LibraryWarmUp> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.CurrentValue.Enabled)
        {
            return Task.CompletedTask;
        }

        try
        {
            _ = PublicSuffixList.Default;
            var warmUp = new ConversionEvent(MetaEventNames.Purchase)
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
            if (GraphEventWriter.TryCreate(warmUp, "warm-up", time.GetUtcNow(), out _) is { } graphEvent)
            {
                _ = graphEvent.UserData.EstimateMatchQuality();
                _ = GraphEventWriter.Serialize(graphEvent);
            }
        }
        catch (Exception ex)
        {
            Log.WarmUpFailed(logger, ex);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
