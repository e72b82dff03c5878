using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Inspector;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace CapiMiddleware.Tests.Inspector;

public sealed class RecentEventsTests : IDisposable
{
    private static readonly MatchQuality NoIdentifiers = MatchQuality.Estimate(static _ => false);
    private readonly List<ServiceProvider> _providers = [];

    [Theory]
    [InlineData(null, null, true, "Open")]
    [InlineData(null, null, false, "Off")]
    [InlineData(null, "ops", false, "Off")]
    [InlineData(true, null, false, "OffWithoutPolicy")]
    [InlineData(true, "ops", false, "PolicyRequired")]
    [InlineData(null, "ops", true, "PolicyRequired")]
    [InlineData(false, null, true, "Off")]
    [InlineData(false, "ops", false, "Off")]
    public void On_in_Development_by_default_and_elsewhere_only_when_asked_for_with_a_policy(bool? enabled, string? policy, bool development, string expected)
    {
        var options = new MetaConversionsOptions { Inspector = { Enabled = enabled, AuthorizationPolicy = policy } };
        Assert.Equal(Enum.Parse<InspectorState>(expected), RecentEvents.Decide(options, development));
    }

    [Fact]
    public void Turning_the_library_off_turns_the_inspector_off()
    {
        var options = new MetaConversionsOptions { Enabled = false, Inspector = { Enabled = true } };
        Assert.Equal(InspectorState.Off, RecentEvents.Decide(options, isDevelopment: true));
    }

    [Fact]
    public void Keeps_the_latest_events_only_whatever_comes_in()
    {
        var events = Create(Environments.Development);
        for (var i = 1; i <= RecentEvents.Capacity + 50; i++)
        {
            events.Queued(Entry("Lead", "id-" + i), NoIdentifiers);
        }

        var snapshot = events.Since(0);
        Assert.Equal(RecentEvents.Capacity, snapshot.Events.Count);
        Assert.Equal("id-" + (RecentEvents.Capacity + 50), snapshot.Events[0].EventId); // newest first
        Assert.Equal("id-51", snapshot.Events[^1].EventId);
        Assert.Equal(snapshot.Events[^1].Sequence, snapshot.OldestSequence);

        // A late answer about an event already gone brings nothing back.
        events.Delivered([Entry("Lead", "id-1")], GraphSendResult.Accepted(1, "trace"), sentToMeta: true);
        Assert.DoesNotContain(events.Since(0).Events, e => e.EventId == "id-1");
    }

    [Fact]
    public void Since_a_version_returns_only_what_changed_after_it()
    {
        var events = Create(Environments.Development);
        events.Queued(Entry("Lead", "a"), NoIdentifiers);
        events.Queued(Entry("Lead", "b"), NoIdentifiers);
        var first = events.Since(0);
        Assert.True(first.Full);

        events.Delivered([Entry("Lead", "a")], GraphSendResult.Accepted(1, "AbCdEf"), sentToMeta: true);
        var next = events.Since(first.Version);

        Assert.False(next.Full);
        var changed = Assert.Single(next.Events);
        Assert.Equal(("a", DeliveryStatus.Sent, "AbCdEf", 1), (changed.EventId, changed.Status, changed.FbTraceId, changed.SendAttempts));
        Assert.Empty(events.Since(next.Version).Events);
        Assert.True(events.Since(next.Version + 100).Full); // a version this process never had: start over
    }

    [Fact]
    public void A_batch_Meta_refuses_for_an_invalid_event_waits_for_its_halves()
    {
        var events = Create(Environments.Development);
        OutboxEntry[] batch = [Entry("Lead", "a"), Entry("Lead", "b")];
        foreach (var entry in batch)
        {
            events.Queued(entry, NoIdentifiers);
        }

        var refused = GraphSendResult.FromError(System.Net.HttpStatusCode.BadRequest, new GraphError { Message = "Invalid parameter", Code = 100, FbTraceId = "T1" }, null, null);
        events.Delivered(batch, refused, sentToMeta: true);
        Assert.All(events.Since(0).Events, e => Assert.Equal(DeliveryStatus.Queued, e.Status));

        events.Delivered([batch[1]], refused, sentToMeta: true);
        var rejected = Assert.Single(events.Since(0).Events, e => e.Status == DeliveryStatus.Rejected);
        Assert.Equal("b", rejected.EventId);
        Assert.Contains("Invalid parameter", rejected.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void While_off_nothing_is_recorded()
    {
        var events = Create(Environments.Production);
        events.Queued(Entry("Lead", "a"), NoIdentifiers);
        events.NotQueued("Purchase", "b", "website", DeliveryStatus.Invalid, "no value");
        Assert.Empty(events.Since(0).Events);
    }

    public void Dispose()
    {
        foreach (var provider in _providers)
        {
            provider.Dispose();
        }
    }

    private RecentEvents Create(string environment)
    {
        var services = new ServiceCollection().AddLogging().AddMetaConversions(_ => { });
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = environment });
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<RecentEvents>();
    }

    private static OutboxEntry Entry(string name, string id) => new()
    {
        PixelId = "1",
        EventName = name,
        EventId = id,
        EventTime = 1_700_000_000,
        ActionSource = "website",
        Payload = "{}"u8.ToArray(),
        EnqueuedAt = DateTimeOffset.UnixEpoch,
    };
}
