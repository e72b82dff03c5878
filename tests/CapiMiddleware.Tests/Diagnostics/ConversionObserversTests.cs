using System.Collections.Concurrent;
using System.Reflection;
using CapiMiddleware.Context;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Events;
using CapiMiddleware.Inspector;
using CapiMiddleware.Serving;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CapiMiddleware.Tests.Diagnostics;

/// <summary>The one seam between the pipeline and those who watch it (issue 17).</summary>
public sealed class ConversionObserversTests
{
    /// <summary>An application's own observer: writes down what it is told, in order.</summary>
    private sealed class Recording : IConversionObserver
    {
        public ConcurrentQueue<string> Told { get; } = new();

        public void Queued(OutboxEntry entry, GraphEvent graphEvent, MatchQuality quality, EventIdSource idSource) =>
            Told.Enqueue($"queued {graphEvent.EventName} {graphEvent.EventId} {idSource}");

        public void Stored(GraphEvent graphEvent) => Told.Enqueue($"stored {graphEvent.EventName} {graphEvent.EventId}");

        public void Refused(in RefusedEvent refused) => Told.Enqueue($"refused {refused.EventName} {refused.Reason}: {refused.Detail}");

        public void HandedToPixel(string eventName, string eventId, PixelHandover handover, PixelEvent? pixel, bool serverCopyQueued) =>
            Told.Enqueue($"pixel {eventName} {eventId} {handover} queued={serverCopyQueued}");

        public void Delivered(string pixelId, IReadOnlyList<OutboxEntry> batch, GraphSendResult result, bool sentToMeta) =>
            Told.Enqueue($"delivered {string.Join(",", batch.Select(e => e.EventId))} {result.Outcome} toMeta={sentToMeta}");
    }

    [Fact]
    public async Task A_purchase_is_told_to_every_observer_from_queued_to_delivered()
    {
        var recording = new Recording();
        await using var app = await TestApp.StartAsync(services: s => s.AddSingleton<IConversionObserver>(recording));

        using var response = await app.Client.PostAsync("/purchase?orderId=ord-7", null);
        response.EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => recording.Told.Any(t => t.StartsWith("delivered", StringComparison.Ordinal)), "the send is told");

        // The request tells the first three in this order; the sender's answer may come before the page's handover.
        var told = recording.Told.ToList();
        Assert.Equal(
            ["queued Purchase ord-7 Server", "stored Purchase ord-7", "pixel Purchase ord-7 Page queued=True"],
            told.Where(t => !t.StartsWith("delivered", StringComparison.Ordinal)));
        Assert.Equal("delivered ord-7 Accepted toMeta=True", Assert.Single(told, t => t.StartsWith("delivered", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_refused_event_is_told_with_its_reason_and_never_stored()
    {
        var recording = new Recording();
        await using var app = await TestApp.StartAsync(services: s => s.AddSingleton<IConversionObserver>(recording));

        using var response = await app.Client.PostAsync("/purchase-without-value", null);
        response.EnsureSuccessStatusCode();

        var told = Assert.Single(recording.Told);
        Assert.StartsWith("refused Purchase Invalid: ", told, StringComparison.Ordinal);
        Assert.Contains("value", told, StringComparison.Ordinal);
    }

    /// <summary>
    /// The pipeline knows the seam, not who listens: none of the recorder, queue, sender or beacon takes the inspector,
    /// the match diagnostics or the log observer, nor keeps one in a field.
    /// </summary>
    [Theory]
    [InlineData(typeof(ConversionRecorder))]
    [InlineData(typeof(ConversionQueue))]
    [InlineData(typeof(OutboxSender))]
    [InlineData(typeof(PixelBeacon))]
    public void The_pipeline_knows_no_observer_by_name(Type pipelineType)
    {
        Type[] observers = [typeof(RecentEvents), typeof(MatchDiagnostics), typeof(ConversionLog), typeof(ConversionMetrics)];
        var parameters = pipelineType.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .SelectMany(c => c.GetParameters()).Select(p => p.ParameterType);
        var fields = pipelineType.GetFields(BindingFlags.NonPublic | BindingFlags.Instance).Select(f => f.FieldType);

        Assert.Empty(parameters.Concat(fields).Intersect(observers));
    }

    [Fact]
    public async Task The_library_observers_are_each_registered_once()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);

        var registered = app.Services.GetServices<IConversionObserver>().Select(o => o.GetType()).ToArray();

        Assert.Equal(registered.Distinct(), registered);
        Assert.Superset(
            new HashSet<Type> { typeof(ConversionMetrics), typeof(ConversionLog), typeof(MatchDiagnostics), typeof(PixelReach), typeof(RecentEvents) },
            registered.ToHashSet());
    }
}
