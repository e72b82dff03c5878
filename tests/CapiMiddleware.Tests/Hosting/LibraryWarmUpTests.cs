using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Hosting;

/// <summary>The made-up event the start-up runs through the pipeline's code is never queued, observed or sent.</summary>
public sealed class LibraryWarmUpTests
{
    [Fact]
    public async Task The_warm_up_event_reaches_no_queue_no_observer_and_no_Graph()
    {
        await using var app = await TestApp.StartAsync();
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        // A real event after start-up: once it is delivered, anything queued before it would have been too.
        Assert.True(await queue.EnqueueAsync(new ConversionEvent("Lead") { EventId = "after-start", ActionSource = ActionSource.SystemGenerated, UserData = { Email = "a@example.com" } }));
        await app.WaitForOutboxEmptyAsync();

        Assert.Equal(["after-start"], app.Graph!.AcceptedEvents.Select(e => e.GetProperty("event_id").GetString()));
        Assert.DoesNotContain(app.Logs.Lines, l => l.Message.Contains("warm-up", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(app.Logs.WithEventId(140));
    }
}
