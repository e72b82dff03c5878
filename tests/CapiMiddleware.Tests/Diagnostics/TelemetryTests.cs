using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Outbox.Sqlite;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Diagnostics;

/// <summary>
/// The <c>CapiMiddleware</c> meter and activity source, read the way a user's OpenTelemetry would, from a real app
/// sending over HTTP to the fake Graph API.
/// </summary>
public sealed class TelemetryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Accepted_and_sent_events_are_counted_by_name_with_batch_size_and_send_duration()
    {
        await using var app = await TestApp.StartAsync();
        using var metrics = new Collectors(app);
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        for (var i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(SampleEvents.Purchase($"ord-{i}"));
        }

        await queue.EnqueueAsync(SampleEvents.Purchase("lead-1") with { EventName = MetaEventNames.Lead });
        await app.Graph!.WaitForEventsAsync(4, Wait);

        await Eventually.TrueAsync(() => Sum(metrics.Sent) == 4, "the four events count as sent");
        Assert.Equal(3, Sum(metrics.Accepted, "event_name", "Purchase"));
        Assert.Equal(1, Sum(metrics.Accepted, "event_name", "Lead"));
        Assert.Equal(3, Sum(metrics.Sent, "event_name", "Purchase"));
        Assert.Equal(1, Sum(metrics.Sent, "event_name", "Lead"));
        Assert.Equal(app.Graph.Requests.Select(r => r.Events.Count), metrics.BatchSize.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(metrics.Duration.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal("accepted", m.Tags["outcome"]);
            Assert.InRange(m.Value, 0.0000001, double.MaxValue);
        });
        Assert.Equal(0, Sum(metrics.Failed) + Sum(metrics.Retried) + Sum(metrics.Dropped));
    }

    [Fact]
    public async Task A_temporary_failure_counts_the_retry_within_the_send_and_the_round_again()
    {
        await using var app = await TestApp.StartAsync(o =>
        {
            o.MaxRetryAttempts = 1;
            o.RequeueDelay = TimeSpan.FromMilliseconds(50);
        });
        using var metrics = new Collectors(app);
        app.Graph!.EnqueueResponse(FakeResponse.Status(500));
        app.Graph.EnqueueResponse(FakeResponse.Status(503));

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await app.Graph.WaitForEventsAsync(1, Wait);

        await Eventually.TrueAsync(() => Sum(metrics.Sent) == 1, "the event counts as sent");
        // Attempt 1 (500), its retry (503): one failed send, put back; the next round is accepted.
        Assert.Equal(3, app.Graph.Requests.Count);
        Assert.Equal(1, Sum(metrics.Failed, "reason", "transient"));
        Assert.Equal(2, Sum(metrics.Retried));
        Assert.Equal(["transient", "accepted"], metrics.Duration.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!));
    }

    [Theory]
    [InlineData(100, "invalid")]
    [InlineData(190, "token_rejected")]
    [InlineData(200, "permission_denied")]
    [InlineData(2500, "rejected")]
    public async Task Refused_sends_count_their_events_as_failed_by_reason(int code, string reason)
    {
        await using var app = await TestApp.StartAsync();
        using var metrics = new Collectors(app);
        app.Graph!.EnqueueResponse(FakeResponse.GraphError(code, message: $"refused with {code}"));

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        await Eventually.TrueAsync(() => Sum(metrics.Failed) == 1, $"the refused event counts as failed\n{app.Logs.AllText}");
        Assert.Equal(1, Sum(metrics.Failed, "reason", reason));
        Assert.Equal(0, Sum(metrics.Sent));
        Assert.Equal(0, Sum(metrics.Retried));
    }

    [Fact]
    public async Task An_invalid_event_in_a_batch_counts_once_and_the_others_count_as_sent()
    {
        await using var app = await TestApp.StartAsync(o => o.FlushInterval = TimeSpan.FromMilliseconds(500));
        using var metrics = new Collectors(app);
        app.Graph!.Responder = request => request.Events.Any(e => e.GetProperty("event_id").GetString() == "ord-bad")
            ? FakeResponse.GraphError(100, 2804001, message: "Invalid parameter")
            : null;
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        for (var i = 0; i < 8; i++)
        {
            await queue.EnqueueAsync(SampleEvents.Purchase(i == 5 ? "ord-bad" : $"ord-{i}"));
        }

        await app.Graph.WaitForEventsAsync(7, Wait);
        await Eventually.TrueAsync(() => Sum(metrics.Sent) == 7 && Sum(metrics.Failed) == 1, "seven sent, one failed");
        Assert.Equal(1, Sum(metrics.Failed, "reason", "invalid"));
        Assert.Contains(metrics.Duration.GetMeasurementSnapshot(), m => (string)m.Tags["outcome"]! == "invalid_events");
    }

    [Fact]
    public async Task Events_that_will_never_be_sent_are_counted_as_dropped_by_reason()
    {
        await using var app = await TestApp.StartAsync(o => o.QueueCapacity = 2);
        using var metrics = new Collectors(app);
        app.Graph!.Responder = _ => FakeResponse.Hang();
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        await queue.EnqueueAsync(SampleEvents.Purchase("ord-1") with { CustomData = new CustomData() }); // a Purchase without value
        for (var i = 2; i < 6; i++)
        {
            await queue.EnqueueAsync(SampleEvents.Purchase($"ord-{i}"));
        }

        Assert.Equal(1, Sum(metrics.Dropped, "reason", "invalid"));
        Assert.Equal(2, Sum(metrics.Dropped, "reason", "queue_full"));
        Assert.Equal(2, Sum(metrics.Accepted));
    }

    [Fact]
    public async Task Entries_grown_too_old_in_the_store_are_counted_as_dropped_stale()
    {
        await using var app = await TestApp.StartAsync();
        using var metrics = new Collectors(app);
        var eightDaysAgo = DateTimeOffset.UtcNow.AddDays(-8).ToUnixTimeSeconds();
        await app.Services.GetRequiredService<IOutboxStore>().EnqueueAsync(new OutboxEntry
        {
            PixelId = "1234567890",
            EventName = "Purchase",
            EventId = "ord-old",
            EventTime = eightDaysAgo,
            ActionSource = "website",
            Payload = System.Text.Encoding.UTF8.GetBytes($$"""{"event_name":"Purchase","event_time":{{eightDaysAgo}},"event_id":"ord-old","action_source":"website"}"""),
            EnqueuedAt = DateTimeOffset.UtcNow,
        }, default);

        await Eventually.TrueAsync(() => Sum(metrics.Dropped, "reason", "stale") == 1, "the old entry counts as dropped");
        Assert.Empty(app.Graph!.Requests);
    }

    [Fact]
    public async Task An_unreachable_store_counts_the_event_kept_in_the_fallback_and_drops_only_what_the_full_fallback_cannot_take()
    {
        await using var app = await TestApp.StartAsync(o =>
        {
            o.QueueCapacity = 1; // the memory fallback's bound
            o.Outbox.Provider = "redis";
            o.Outbox.Redis = $"127.0.0.1:{ClosedPort()},connectTimeout=500,syncTimeout=500";
        });
        using var metrics = new Collectors(app);
        using var fallback = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), MetaConversionsDiagnostics.MeterName, "capimiddleware.outbox.fallback");
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        // Each write outlives the budget: the request goes on, the event is accepted, and goes to the fallback when
        // Redis's time-out fails the write; the second finds the fallback full and is lost, loudly.
        Assert.True(await queue.EnqueueAsync(SampleEvents.Purchase("ord-1")));
        Assert.True(await queue.EnqueueAsync(SampleEvents.Purchase("ord-2")));

        Assert.Equal(2, Sum(metrics.Accepted));
        await Eventually.TrueAsync(() => Sum(fallback, "reason", "late_failed") == 1, "one event is kept in the fallback");
        await Eventually.TrueAsync(() => Sum(metrics.Dropped, "reason", "store_failed") == 1, "the other is counted as dropped");
        Assert.Single(app.Logs.WithEventId(55));
    }

    [Fact]
    public async Task The_queue_depth_gauge_reports_what_the_memory_outbox_holds()
    {
        await using var app = await TestApp.StartAsync(o =>
        {
            o.MaxRetryAttempts = 0;
            o.RequeueDelay = TimeSpan.FromMinutes(10);
        });
        using var depth = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), MetaConversionsDiagnostics.MeterName, "capimiddleware.queue.depth");
        app.Graph!.Responder = _ => FakeResponse.Status(500);

        depth.RecordObservableInstruments();
        Assert.Equal(0, depth.LastMeasurement!.Value);

        var queue = app.Services.GetRequiredService<IConversionQueue>();
        for (var i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(SampleEvents.Purchase($"ord-{i}"));
        }

        depth.RecordObservableInstruments();
        Assert.Equal(3, depth.LastMeasurement!.Value); // waiting, being sent or put back: all still held
        Assert.Equal("{event}", depth.Instrument!.Unit);
    }

    [Fact]
    public async Task A_durable_store_is_counted_in_the_background_at_most_once_per_interval()
    {
        var folder = Directory.CreateTempSubdirectory("capi-depth-");
        try
        {
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var factory = TestMeters.NewFactory();
            var metrics = TestMeters.NewConversionMetrics(factory);
            await using var store = SqliteOutboxStore.Open(
                Path.Combine(folder.FullName, "outbox.db"), TimeSpan.FromMinutes(1), time, new StaleEntries(time, metrics, NullLogger<StaleEntries>.Instance), NullLogger.Instance);
            using var gauge = new MetricCollector<long>(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.queue.depth");
            var depth = new QueueDepth(store, metrics, time);

            await store.EnqueueAsync(Entry("a"), default);
            gauge.RecordObservableInstruments();
            Assert.Null(gauge.LastMeasurement); // the first collection starts the count and has nothing yet

            await Eventually.TrueAsync(() => Observe(gauge) == 1, "the background count arrives");
            await store.EnqueueAsync(Entry("b"), default);
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(1, Observe(gauge)); // the clock stands still: the store is not read again
            }

            Assert.Equal(1, (await depth.ReadAsync(default)).Count);

            time.Advance(QueueDepth.RefreshInterval);
            Assert.Equal(2, (await depth.ReadAsync(default)).Count);
            Assert.Equal(2, Observe(gauge));
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        static long? Observe(MetricCollector<long> gauge)
        {
            gauge.RecordObservableInstruments();
            return gauge.LastMeasurement?.Value;
        }
    }

    [Fact]
    public async Task Each_send_is_a_client_activity_tagged_with_Graph_s_fbtrace_id()
    {
        const string PixelId = "4242424201";
        using var activities = new SendActivities(PixelId);
        await using var app = await TestApp.StartAsync(o => o.PixelId = PixelId);
        app.Graph!.EnqueueResponse(FakeResponse.Status(500));

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await app.Graph.WaitForEventsAsync(1, Wait);

        await Eventually.TrueAsync(() => !activities.IsEmpty, "the send activity stops");
        var send = Assert.Single(activities);
        Assert.Equal(ActivityKind.Client, send.Kind);
        Assert.Equal("CapiMiddleware.Send", send.OperationName);
        Assert.Equal(1, send.GetTagItem("batch_size"));
        Assert.Equal("accepted", send.GetTagItem("outcome"));
        Assert.Equal(1, send.GetTagItem("events_received"));
        Assert.Equal(FbTraceIdOf(app.Graph.Requests[1]), send.GetTagItem("fbtrace_id"));
        Assert.Equal(ActivityStatusCode.Unset, send.Status);
        var retry = Assert.Single(send.Events);
        Assert.Equal(("retry", 2), (retry.Name, (int)retry.Tags.Single(t => t.Key == "attempt").Value!));
    }

    [Fact]
    public async Task A_refused_send_s_activity_carries_the_error_and_the_fbtrace_id_of_the_refusal()
    {
        const string PixelId = "4242424202";
        using var activities = new SendActivities(PixelId);
        await using var app = await TestApp.StartAsync(o => o.PixelId = PixelId);
        app.Graph!.EnqueueResponse(FakeResponse.GraphError(190, message: "Error validating access token"));

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        await Eventually.TrueAsync(() => !activities.IsEmpty, "the send activity stops");
        var send = activities.First();
        Assert.Equal("token_rejected", send.GetTagItem("outcome"));
        Assert.Equal("token_rejected", send.GetTagItem("error.type"));
        Assert.Equal(FbTraceIdOf(app.Graph.Requests[0]), send.GetTagItem("fbtrace_id"));
        Assert.Equal(ActivityStatusCode.Error, send.Status);
        Assert.Contains("Error validating access token", send.StatusDescription);
        Assert.DoesNotContain(app.Graph.Options.ExpectedAccessToken, send.StatusDescription);
    }

    [Fact]
    public async Task Without_an_access_token_nothing_is_sent_so_no_activity_and_no_send_metrics()
    {
        using var activities = new SendActivities("4242424203");
        await using var app = await TestApp.StartAsync(o => o.PixelId = "4242424203", sendToGraph: false);
        using var metrics = new Collectors(app);

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await Eventually.TrueAsync(() => app.Logs.WithEventId(5).Any(), "the batch is shown in the log");

        Assert.Equal(1, Sum(metrics.Accepted));
        Assert.Equal(0, Sum(metrics.Sent) + Sum(metrics.Failed));
        Assert.Empty(metrics.BatchSize.GetMeasurementSnapshot());
        Assert.Empty(activities);
    }

    private static long Sum(MetricCollector<long> collector, string? tag = null, string? value = null) =>
        collector.GetMeasurementSnapshot()
            .Where(m => tag is null || Equals(m.Tags[tag], value))
            .Sum(m => m.Value);

    private static string FbTraceIdOf(RecordedRequest request) =>
        JsonDocument.Parse(request.ResponseBody!).RootElement is var body && body.TryGetProperty("error", out var error)
            ? error.GetProperty("fbtrace_id").GetString()!
            : body.GetProperty("fbtrace_id").GetString()!;

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static OutboxEntry Entry(string eventId) => new()
    {
        PixelId = "1234567890",
        EventName = "Purchase",
        EventId = eventId,
        EventTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ActionSource = "website",
        Payload = "{}"u8.ToArray(),
        EnqueuedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>The counters and histograms of one app's meter.</summary>
    private sealed class Collectors : IDisposable
    {
        public Collectors(TestApp app)
        {
            var factory = app.Services.GetRequiredService<IMeterFactory>();
            Accepted = new(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.events.accepted");
            Sent = new(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.events.sent");
            Failed = new(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.events.failed");
            Dropped = new(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.events.dropped");
            Retried = new(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.events.retried");
            BatchSize = new(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.batch.size");
            Duration = new(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.send.duration");
        }

        public MetricCollector<long> Accepted { get; }

        public MetricCollector<long> Sent { get; }

        public MetricCollector<long> Failed { get; }

        public MetricCollector<long> Dropped { get; }

        public MetricCollector<long> Retried { get; }

        public MetricCollector<int> BatchSize { get; }

        public MetricCollector<double> Duration { get; }

        public void Dispose()
        {
            Accepted.Dispose();
            Sent.Dispose();
            Failed.Dispose();
            Dropped.Dispose();
            Retried.Dispose();
            BatchSize.Dispose();
            Duration.Dispose();
        }
    }

    /// <summary>The stopped send activities of one pixel; the listener is process-wide, so other tests' sends are left out.</summary>
    private sealed class SendActivities : ConcurrentQueue<Activity>, IDisposable
    {
        private readonly ActivityListener _listener;

        public SendActivities(string pixelId)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == MetaConversionsDiagnostics.ActivitySourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    if (Equals(activity.GetTagItem("pixel_id"), pixelId))
                    {
                        Enqueue(activity);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public void Dispose() => _listener.Dispose();
    }
}
