using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using CapiMiddleware.DatasetQuality;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.DatasetQuality;

/// <summary>
/// Meta's Dataset Quality figures, fetched by a real app from the loopback fake Graph on a <see cref="FakeTimeProvider"/>:
/// what is asked and how, what is read of every documented field, the schedule and the back-off, and where the figures
/// go (the inspector's JSON, the gauges, the health check).
/// </summary>
public sealed class DatasetQualityTests
{
    private const string Pixel = "1234567890";
    private const string InspectorPolicy = "OpenInspector";
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(30);

    [Fact]
    public async Task Every_documented_field_is_asked_for_and_read()
    {
        await using var test = await StartAsync();

        var quality = await test.FetchedAsync(1);
        var rows = quality.Report!.Web!;
        Assert.Equal(["Purchase", "Lead", "PageView"], rows.Select(r => r.EventName));

        var purchase = rows[0];
        var emq = purchase.EventMatchQuality!;
        Assert.Equal(7.2, emq.CompositeScore);
        Assert.Equal(["email", "ip_address", "user_agent", "external_id"], emq.MatchKeyFeedback!.Select(k => k.Identifier));
        Assert.Equal([100, 99.9, 100, 41.5], emq.MatchKeyFeedback!.Select(k => k.Coverage!.Percentage!.Value));
        Assert.Equal(58.96, emq.MatchKeyFeedback![0].PotentialAcrIncrease!.Percentage);
        Assert.StartsWith("Similar advertisers who sent valid Email", emq.MatchKeyFeedback[0].PotentialAcrIncrease!.Description);
        var diagnostic = Assert.Single(emq.Diagnostics!);
        Assert.Equal(("Server sending mismatched IP addresses", 61.5, 19567L, 31830L),
            (diagnostic.Name, diagnostic.Percentage!.Value, diagnostic.AffectedEventCount!.Value, diagnostic.TotalEventCount!.Value));
        Assert.StartsWith("Your server is sending client IP addresses", diagnostic.Description);
        Assert.StartsWith("In your server payload", diagnostic.Solution);

        Assert.Equal(37.9, purchase.Acr!.Percentage);
        Assert.StartsWith("In the last 7 days", purchase.Acr.Description);
        Assert.Equal((34.1, 75.0), (purchase.EventCoverage!.Percentage!.Value, purchase.EventCoverage.GoalPercentage!.Value));
        Assert.StartsWith("The percentage of events received", purchase.EventCoverage.Description);
        Assert.Equal(35.8, purchase.EventCoverage.PotentialAcrIncrease!.Percentage);
        Assert.Equal(["event_id", "external_id", "fbp"], purchase.DedupeKeys!.Select(k => k.DedupeKey));
        Assert.Equal((100.0, 100.0, 15.96), (purchase.DedupeKeys![1].BrowserEvents!.Percentage!.Value, purchase.DedupeKeys[1].ServerEvents!.Percentage!.Value, purchase.DedupeKeys[1].OverallBrowserCoverage!.Percentage!.Value));
        Assert.StartsWith("The overall percentage of browser events", purchase.DedupeKeys[0].OverallBrowserCoverage!.Description);
        Assert.Equal("real_time", purchase.DataFreshness!.UploadFrequency);
        Assert.StartsWith("The average frequency", purchase.DataFreshness.Description);

        Assert.Equal("hourly", rows[1].DataFreshness!.UploadFrequency);
        Assert.Null(rows[2].EventMatchQuality);
        Assert.Equal(30.1, rows[2].EventPotentialAcrIncrease!.Percentage);
        Assert.StartsWith("Similar advertisers who set up Conversions API for PageView", rows[2].EventPotentialAcrIncrease!.Description);

        // One GET, every field asked by name: the fake keeps only the fields asked, as Graph does.
        var request = Assert.Single(test.Graph.DatasetQualityRequests);
        Assert.Equal("GET", request.Method);
        Assert.Equal("/v24.0/dataset_quality", request.Path);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.QueryString);
        Assert.Equal(Pixel, query["dataset_id"].ToString());
        Assert.Equal(DatasetQualityClient.Fields, query["fields"].ToString());
        Assert.False(query.ContainsKey("agent_name"));
    }

    [Fact]
    public void The_spelling_of_the_field_table_dedup_key_feedback_is_read_too()
    {
        // Meta's field table says dedup_key_feedback, its examples and the request dedupe_key_feedback: either is read.
        var answer = JsonSerializer.Deserialize(
            """{"web":[{"event_name":"Purchase","dedup_key_feedback":[{"dedupe_key":"event_id","browser_events_with_dedupe_key":{"percentage":90}}]}]}""",
            DatasetQualityJsonContext.Default.DatasetQualityResponse)!;

        Assert.Equal(90, Assert.Single(answer.Web![0].DedupeKeys!).BrowserEvents!.Percentage);
    }

    [Fact]
    public async Task The_token_goes_in_the_Authorization_header_only_and_never_into_the_log_or_a_URL()
    {
        await using var test = await StartAsync(configure: o => o.DatasetQuality.AgentName = "partner_name");
        await test.FetchedAsync(1);
        test.Graph.EnqueueDatasetQualityResponse(FakeResponse.GraphError(190, message: "Error validating access token: Session has expired"));
        test.Time.Advance(Interval);
        await test.AttemptedAsync(2);

        var token = test.Graph.Options.ExpectedAccessToken;
        Assert.All(test.Graph.DatasetQualityRequests, r =>
        {
            Assert.False(r.AccessTokenInUrl);
            Assert.DoesNotContain(token, r.Path + r.QueryString, StringComparison.Ordinal);
            Assert.DoesNotContain("access_token", r.QueryString, StringComparison.Ordinal);
            Assert.Equal("Bearer " + token, r.Headers["Authorization"]);
            Assert.Contains("agent_name=partner_name", r.QueryString, StringComparison.Ordinal);
        });
        Assert.Contains(test.App.Logs.WithEventId(131), l => l.Message.Contains("Meta refuses the access token", StringComparison.Ordinal));
        Assert.DoesNotContain(token, test.App.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(token, await test.App.Client.GetStringAsync("/_capi/inspector/summary.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task It_fetches_at_start_then_once_per_interval_never_per_request()
    {
        await using var test = await StartAsync();
        var start = test.Time.GetUtcNow();
        var first = await test.FetchedAsync(1);
        Assert.Equal((start, start + Interval), (first.FetchedAt!.Value, first.NextAttemptAt!.Value));

        // Requests and events do not fetch: only the clock does.
        for (var i = 0; i < 5; i++)
        {
            using var response = await test.App.Client.PostAsync($"/purchase?orderId=ord-{i}", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Single(test.Graph.DatasetQualityRequests);

        test.Time.Advance(Interval);
        var second = await test.FetchedAsync(2);
        Assert.Equal((start + Interval, start + (2 * Interval)), (second.FetchedAt!.Value, second.NextAttemptAt!.Value));
        Assert.Equal(2, test.Graph.DatasetQualityRequests.Count);
    }

    [Fact]
    public async Task Failures_back_off_exponentially_are_logged_once_per_kind_and_a_success_is_said_once()
    {
        await using var test = await StartAsync(enqueueBeforeStart: [
            FakeResponse.GraphError(613, httpStatus: 400, message: "(#613) Calls to this api have exceeded the rate limit."),
            FakeResponse.GraphError(80004, message: "There have been too many calls to this ad-account."),
            FakeResponse.Status(503),
        ]);
        var time = test.Time;

        // 1: throttled, 5 minutes (±10 %).
        var first = await test.AttemptedAsync(1);
        Assert.Equal(PixelQualityStatus.Failed, first.Status);
        AssertWait(first, TimeSpan.FromMinutes(5));
        Assert.Contains("Meta throttles", first.LastError, StringComparison.Ordinal);
        Assert.Single(test.App.Logs.WithEventId(131));

        // 2: throttled again (a business use case code), 10 minutes, not logged as a warning again.
        time.SetUtcNow(first.NextAttemptAt!.Value);
        var second = await test.AttemptedAsync(2);
        AssertWait(second, TimeSpan.FromMinutes(10));
        Assert.Single(test.App.Logs.WithEventId(131));
        Assert.Single(test.App.Logs.WithEventId(132));

        // 3: another kind (HTTP 503), from 1 minute doubled twice, and said once more.
        time.SetUtcNow(second.NextAttemptAt!.Value);
        var third = await test.AttemptedAsync(3);
        AssertWait(third, TimeSpan.FromMinutes(4));
        Assert.Equal(2, test.App.Logs.WithEventId(131).Count());
        Assert.Equal(3, third.ConsecutiveFailures);

        // 4: Meta answers; fetched, back on the interval, recovery said once.
        time.SetUtcNow(third.NextAttemptAt!.Value);
        var fourth = await test.FetchedAsync(4);
        Assert.Equal((PixelQualityStatus.Fetched, 0, time.GetUtcNow() + Interval), (fourth.Status, fourth.ConsecutiveFailures, fourth.NextAttemptAt!.Value));
        Assert.Contains("after 3 failed attempts", Assert.Single(test.App.Logs.WithEventId(133)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fetch_without_an_answer_times_out_on_the_app_s_clock_and_is_retried()
    {
        await using var test = await StartAsync(enqueueBeforeStart: [FakeResponse.Hang()]);
        await Eventually.TrueAsync(() => test.Graph.DatasetQualityRequests.Count == 1, "the first fetch is under way");

        test.Time.Advance(DatasetQualityDefaults.FetchTimeout);
        var failed = await test.AttemptedAsync(1);

        Assert.Equal("no answer within 30 s.", failed.LastError);
        AssertWait(failed, TimeSpan.FromMinutes(1));
    }

    [Theory]
    [InlineData(200, null, "(#200) Requires ads_read permission to manage the object", "The token lacks the permission ads_read:")]
    [InlineData(10, null, "(#10) Application does not have permission for this action", "The token lacks a permission:")]
    [InlineData(100, 33, "Unsupported get request. Object with ID '1234567890' does not exist, cannot be loaded due to missing permissions", "The token lacks a permission:")]
    public async Task A_refused_permission_says_which_and_what_the_API_needs(int code, int? subcode, string message, string says)
    {
        await using var test = await StartAsync(enqueueBeforeStart: [FakeResponse.GraphError(code, subcode, message: message)]);

        var failed = await test.AttemptedAsync(1);

        Assert.StartsWith(says, failed.LastError, StringComparison.Ordinal);
        Assert.Contains("ads_read and ads_management (or business_management)", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("'Use events dataset' access to dataset 1234567890", failed.LastError, StringComparison.Ordinal);
        Assert.Contains(message, failed.LastError, StringComparison.Ordinal);
        Assert.Contains("MetaConversions:DatasetQuality:AccessToken", Assert.Single(test.App.Logs.WithEventId(131)).Message, StringComparison.Ordinal);
        AssertWait(failed, Interval); // only the site can fix it: asked again after an interval
    }

    [Fact]
    public void The_back_off_doubles_honours_Retry_After_and_stops_at_four_intervals()
    {
        var hour = TimeSpan.FromHours(1);
        Assert.Equal(TimeSpan.FromMinutes(1), DatasetQualityFetcher.NextDelay(FetchFailure.Transient, 1, hour, null, 0.5));
        Assert.Equal(TimeSpan.FromMinutes(8), DatasetQualityFetcher.NextDelay(FetchFailure.Unreadable, 4, hour, null, 0.5));
        Assert.Equal(TimeSpan.FromMinutes(0.9), DatasetQualityFetcher.NextDelay(FetchFailure.Transient, 1, hour, null, 0));
        Assert.Equal(TimeSpan.FromMinutes(1.1), DatasetQualityFetcher.NextDelay(FetchFailure.Transient, 1, hour, null, 1));
        Assert.Equal(TimeSpan.FromMinutes(20), DatasetQualityFetcher.NextDelay(FetchFailure.Throttled, 3, hour, null, 0.5));
        Assert.Equal(TimeSpan.FromMinutes(45), DatasetQualityFetcher.NextDelay(FetchFailure.Throttled, 1, hour, TimeSpan.FromMinutes(45), 0.5));
        Assert.Equal(4 * hour, DatasetQualityFetcher.NextDelay(FetchFailure.Throttled, 30, hour, null, 1));
        Assert.Equal(4 * hour, DatasetQualityFetcher.NextDelay(FetchFailure.Transient, 1, hour, TimeSpan.FromDays(2), 0.5));
        Assert.Equal(2 * hour, DatasetQualityFetcher.NextDelay(FetchFailure.TokenRejected, 2, hour, null, 0.5));
    }

    [Fact]
    public async Task Each_pixel_is_read_with_its_own_token_or_the_Dataset_Quality_token_and_a_pixel_without_one_is_said_once()
    {
        const string Second = "2222222222";
        const string Third = "3333333333";
        await using (var test = await StartAsync(
            configure: o =>
            {
                o.Pixels.Add(new MetaPixelOptions { PixelId = Second, AccessToken = "second-token" });
                o.Pixels.Add(new MetaPixelOptions { PixelId = Third, AccessToken = "third-token" });
            },
            graph: new FakeGraphApiOptions { PixelAccessTokens = new Dictionary<string, string> { [Second] = "second-token", [Third] = "third-token" } }))
        {
            await test.FetchedAsync(1);
            await Eventually.TrueAsync(() => test.Reports.Get(Third)?.Status == PixelQualityStatus.Fetched, "the third pixel is fetched");
            Assert.Equal(
                [("Bearer test-token", Pixel), ("Bearer second-token", Second), ("Bearer third-token", Third)],
                test.Graph.DatasetQualityRequests.Select(r => (r.Headers["Authorization"], QueryOf(r, "dataset_id"))).OrderBy(x => x.Item2));
        }

        await using (var test = await StartAsync(
            configure: o =>
            {
                o.DatasetQuality.AccessToken = "quality-token";
                o.Pixels.Add(new MetaPixelOptions { PixelId = Second, AccessToken = "second-token" });
            },
            graph: new FakeGraphApiOptions { DatasetQualityAccessToken = "quality-token" }))
        {
            await test.FetchedAsync(1);
            await Eventually.TrueAsync(() => test.Reports.Get(Second)?.Status == PixelQualityStatus.Fetched, "the second pixel is fetched");
            Assert.All(test.Graph.DatasetQualityRequests, r => Assert.Equal("Bearer quality-token", r.Headers["Authorization"]));
            Assert.DoesNotContain("quality-token", test.App.Logs.AllText, StringComparison.Ordinal);
        }

        // A pixel with no token anywhere: nothing asked for it, said once, shown as such.
        await using (var test = await StartAsync(configure: o => o.Pixels.Add(new MetaPixelOptions { PixelId = Second }), sendToGraph: false))
        {
            await Eventually.TrueAsync(() => test.Reports.Get(Second)?.Status == PixelQualityStatus.NoToken, "the pixel is marked as without a token");
            Assert.Empty(test.Graph.DatasetQualityRequests);
            Assert.Contains(Second, Assert.Single(test.App.Logs.WithEventId(134), l => l.Message.Contains(Second, StringComparison.Ordinal)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_Dataset_Quality_token_s_app_secret_proves_it_in_appsecret_proof_and_the_secret_stays_home()
    {
        await using var test = await StartAsync(
            configure: o =>
            {
                o.DatasetQuality.AccessToken = "quality-token";
                o.DatasetQuality.AppSecret = "quality-app-secret";
            },
            graph: new FakeGraphApiOptions { DatasetQualityAccessToken = "quality-token" });

        await test.FetchedAsync(1);

        var request = Assert.Single(test.Graph.DatasetQualityRequests);
        Assert.Equal(CapiMiddleware.Dispatch.GraphRequestBody.AppSecretProof("quality-token", "quality-app-secret"), QueryOf(request, "appsecret_proof"));
        Assert.DoesNotContain("quality-app-secret", request.Path + request.QueryString + string.Concat(request.Headers.Values), StringComparison.Ordinal);
        Assert.DoesNotContain("quality-app-secret", test.App.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Off_by_default_nothing_is_fetched_and_the_summary_says_so()
    {
        await using var test = await StartAsync(configure: o => o.DatasetQuality.Enabled = false);
        using (var purchase = await test.App.Client.PostAsync("/purchase?orderId=ord-1", null))
        {
            Assert.Equal(HttpStatusCode.OK, purchase.StatusCode);
        }

        var summary = JsonDocument.Parse(await test.App.Client.GetStringAsync("/_capi/inspector/summary.json")).RootElement;
        var quality = summary.GetProperty("datasetQuality");
        Assert.False(quality.GetProperty("enabled").GetBoolean());
        Assert.Equal(0, quality.GetProperty("pixels").GetArrayLength());
        Assert.Empty(test.Graph.DatasetQualityRequests);
        Assert.Null(test.Reports.Get(Pixel));
    }

    [Fact]
    public async Task The_summary_carries_Meta_s_figures_beside_the_library_s_own_and_keeps_its_fields()
    {
        await using var test = await StartAsync(configure: o =>
        {
            o.DatasetQuality.MinimumMatchQuality = 6;
            o.DatasetQuality.MinimumEventCoverage = 75;
        });
        await test.FetchedAsync(1);

        // Two Purchases of the library's own: one with an email, one without.
        var queue = test.App.Services.GetRequiredService<IConversionQueue>();
        await queue.EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await queue.EnqueueAsync(SampleEvents.Purchase("ord-2") with { UserData = new UserData { ExternalId = "customer-2", ClientIpAddress = "203.0.113.9", ClientUserAgent = TestApp.UserAgent } });

        var summary = JsonDocument.Parse(await test.App.Client.GetStringAsync("/_capi/inspector/summary.json")).RootElement;
        Assert.True(summary.TryGetProperty("pageViews", out _));
        Assert.True(summary.TryGetProperty("pixelBlocked", out _));
        Assert.True(summary.TryGetProperty("events", out _));

        var quality = summary.GetProperty("datasetQuality");
        Assert.True(quality.GetProperty("enabled").GetBoolean());
        Assert.Equal(Interval.TotalSeconds, quality.GetProperty("intervalSeconds").GetDouble());
        Assert.Equal((6.0, 75.0), (quality.GetProperty("floors").GetProperty("matchQuality").GetDouble(), quality.GetProperty("floors").GetProperty("eventCoverage").GetDouble()));
        var pixel = Assert.Single(quality.GetProperty("pixels").EnumerateArray());
        Assert.Equal((Pixel, "fetched"), (pixel.GetProperty("pixelId").GetString(), pixel.GetProperty("status").GetString()));
        Assert.Equal(test.Time.GetUtcNow(), pixel.GetProperty("fetchedAt").GetDateTimeOffset());
        Assert.Equal(test.Time.GetUtcNow() + Interval, pixel.GetProperty("nextAttemptAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, pixel.GetProperty("lastError").ValueKind);

        var purchase = pixel.GetProperty("events")[0];
        Assert.Equal("Purchase", purchase.GetProperty("eventName").GetString());
        var emq = purchase.GetProperty("matchQuality");
        Assert.Equal(7.2, emq.GetProperty("compositeScore").GetDouble());
        var email = emq.GetProperty("matchKeys")[0];
        Assert.Equal(("email", 100.0, 58.96, "em", 50.0),
            (email.GetProperty("identifier").GetString(), email.GetProperty("coverage").GetDouble(), email.GetProperty("potentialAcrIncrease").GetDouble(),
             email.GetProperty("wireField").GetString(), email.GetProperty("localCoverage").GetDouble()));
        Assert.Equal(50.0, emq.GetProperty("matchKeys")[3].GetProperty("localCoverage").GetDouble()); // external_id: the second only
        Assert.Equal(100.0, emq.GetProperty("matchKeys")[1].GetProperty("localCoverage").GetDouble()); // ip_address: both
        Assert.Equal(19567, emq.GetProperty("diagnostics")[0].GetProperty("affectedEventCount").GetInt64());
        var local = purchase.GetProperty("localMatchQuality");
        Assert.Equal(2, local.GetProperty("events").GetInt64());
        Assert.InRange(local.GetProperty("averageScore").GetDouble(), 0.1, 10);
        Assert.Equal((34.1, 75.0), (purchase.GetProperty("eventCoverage").GetProperty("percentage").GetDouble(), purchase.GetProperty("eventCoverage").GetProperty("goalPercentage").GetDouble()));
        Assert.Equal(35.8, purchase.GetProperty("eventCoverage").GetProperty("potentialAcrIncrease").GetDouble());
        var eventId = purchase.GetProperty("dedupeKeys")[0];
        Assert.Equal(("event_id", 100.0, 100.0, 14.8),
            (eventId.GetProperty("dedupeKey").GetString(), eventId.GetProperty("browserEvents").GetDouble(), eventId.GetProperty("serverEvents").GetDouble(), eventId.GetProperty("overallBrowserCoverage").GetDouble()));
        Assert.Equal("real_time", purchase.GetProperty("dataFreshness").GetProperty("uploadFrequency").GetString());
        Assert.Equal(37.9, purchase.GetProperty("acr").GetProperty("percentage").GetDouble());
        Assert.Equal(JsonValueKind.Null, purchase.GetProperty("pixelReach").ValueKind); // no beacon in this test

        var pageView = pixel.GetProperty("events")[2];
        Assert.Equal(JsonValueKind.Null, pageView.GetProperty("matchQuality").GetProperty("compositeScore").ValueKind);
        Assert.Equal(JsonValueKind.Null, pageView.GetProperty("localMatchQuality").ValueKind);
        Assert.Equal(30.1, pageView.GetProperty("potentialAcrIncrease").GetProperty("percentage").GetDouble());

        // events.json, which the page polls, carries the same under its summary.
        var events = JsonDocument.Parse(await test.App.Client.GetStringAsync("/_capi/inspector/events.json")).RootElement;
        Assert.Equal(quality.ToString(), events.GetProperty("summary").GetProperty("datasetQuality").ToString());
    }

    [Fact]
    public async Task Gauges_report_Meta_s_figures_per_pixel_and_event_name()
    {
        await using var test = await StartAsync();
        var factory = test.App.Services.GetRequiredService<IMeterFactory>();
        using var score = new MetricCollector<double>(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.dataset_quality.match_quality");
        using var coverage = new MetricCollector<double>(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.dataset_quality.event_coverage");
        using var dedupe = new MetricCollector<double>(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.dataset_quality.dedupe_key_coverage");
        using var age = new MetricCollector<double>(factory, MetaConversionsDiagnostics.MeterName, "capimiddleware.dataset_quality.age");
        await test.FetchedAsync(1);
        test.Time.Advance(TimeSpan.FromMinutes(2));

        foreach (var collector in new[] { score, coverage, dedupe, age })
        {
            collector.RecordObservableInstruments();
        }

        Assert.Equal([("Purchase", 7.2), ("Lead", 6.2)], score.GetMeasurementSnapshot().Select(m => ((string)m.Tags["event_name"]!, m.Value)));
        Assert.All(score.GetMeasurementSnapshot(), m => Assert.Equal(Pixel, m.Tags["pixel_id"]));
        Assert.Equal([("Purchase", 34.1), ("Lead", 88.0)], coverage.GetMeasurementSnapshot().Select(m => ((string)m.Tags["event_name"]!, m.Value)));
        var keys = dedupe.GetMeasurementSnapshot();
        Assert.Equal(9, keys.Count);
        Assert.Contains(keys, m => (string)m.Tags["dedupe_key"]! == "external_id" && (string)m.Tags["measure"]! == "overall_browser_coverage" && m.Value == 15.96);
        Assert.Contains(keys, m => (string)m.Tags["dedupe_key"]! == "fbp" && (string)m.Tags["measure"]! == "server_events" && m.Value == 0);
        Assert.Equal(120, Assert.Single(age.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public async Task The_health_check_is_degraded_below_a_floor_naming_pixel_event_and_figure()
    {
        await using (var test = await StartAsync(configure: o =>
        {
            o.DatasetQuality.MinimumMatchQuality = 7.5;
            o.DatasetQuality.MinimumEventCoverage = 75;
            o.DatasetQuality.EventNames.Add("Purchase");
        }))
        {
            await test.FetchedAsync(1);
            var health = await test.HealthAsync();
            Assert.Equal((HttpStatusCode.OK, "Degraded"), (health.Code, health.Status));
            Assert.Contains("pixel 1234567890 Purchase: match quality 7.2 < 7.5", health.Description, StringComparison.Ordinal);
            Assert.Contains("pixel 1234567890 Purchase: event coverage 34.1% < 75%", health.Description, StringComparison.Ordinal);
            Assert.DoesNotContain("Lead", health.Description, StringComparison.Ordinal); // not among EventNames
            Assert.Equal(health.Description, health.Data.GetProperty("dataset_quality").GetString());
        }

        // Floors that Meta's figures meet, and no floors at all: healthy.
        await using (var test = await StartAsync(configure: o => o.DatasetQuality.MinimumMatchQuality = 6))
        {
            await test.FetchedAsync(1);
            Assert.Equal("Healthy", (await test.HealthAsync()).Status);
        }
    }

    [Fact]
    public async Task Failed_fetches_never_make_it_unhealthy_and_with_floors_only_figures_older_than_three_intervals_degrade_it()
    {
        await using var test = await StartAsync(
            configure: o => o.DatasetQuality.MinimumMatchQuality = 6,
            enqueueBeforeStart: [FakeResponse.GraphError(190, message: "Error validating access token")]);
        var failed = await test.AttemptedAsync(1);
        Assert.Equal("Healthy", (await test.HealthAsync()).Status); // a refused token for Dataset Quality is not a sending problem

        // Still failing well past three intervals: degraded, saying since when and why.
        test.Graph.TokenRevoked = true;
        var attempts = 1;
        while (test.Time.GetUtcNow() < failed.LastAttemptAt!.Value + (3 * Interval))
        {
            test.Time.SetUtcNow(test.Reports.Get(Pixel)!.NextAttemptAt!.Value);
            await test.AttemptedAsync(++attempts);
        }

        var stale = await test.HealthAsync();
        Assert.Equal((HttpStatusCode.OK, "Degraded"), (stale.Code, stale.Status));
        Assert.Contains("pixel 1234567890's were never fetched (last error: Meta refuses the access token", stale.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(test.Graph.Options.ExpectedAccessToken, stale.Body, StringComparison.Ordinal);
    }

    private static void AssertWait(PixelQuality quality, TimeSpan expected)
    {
        var wait = quality.NextAttemptAt!.Value - quality.LastAttemptAt!.Value;
        Assert.InRange(wait, expected * 0.9, expected * 1.1);
    }

    private static string QueryOf(RecordedRequest request, string name) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.QueryString)[name].ToString();

    private static async Task<Running> StartAsync(
        Action<MetaConversionsOptions>? configure = null,
        string answer = DatasetQualityExamples.EveryField,
        FakeResponse[]? enqueueBeforeStart = null,
        FakeGraphApiOptions? graph = null,
        bool sendToGraph = true)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 8, 9, 0, 0, TimeSpan.Zero));
        // The fake Graph is started first so its answers are set before the app's first fetch.
        var fake = await FakeGraphApiServer.StartAsync(graph);
        fake.SetDatasetQuality(Pixel, answer);
        foreach (var response in enqueueBeforeStart ?? [])
        {
            fake.EnqueueDatasetQualityResponse(response);
        }

        var app = await TestApp.StartAsync(
            o =>
            {
                o.GraphApiBaseUrl = fake.BaseUrl.ToString();
                o.AccessToken = sendToGraph ? fake.Options.ExpectedAccessToken : null;
                o.DatasetQuality.Enabled = true;
                o.DatasetQuality.Interval = Interval;
                o.Inspector.Enabled = true;
                o.Inspector.AuthorizationPolicy = InspectorPolicy;
                configure?.Invoke(o);
            },
            sendToGraph: false,
            services: s =>
            {
                s.AddSingleton<TimeProvider>(time);
                s.AddAuthorization(a => a.AddPolicy(InspectorPolicy, p => p.RequireAssertion(_ => true)));
                s.AddHealthChecks().AddMetaConversions();
            },
            endpoints: a => a.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync }));
        return new Running(app, fake, time);
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var entry = report.Entries[MetaConversionsDiagnostics.HealthCheckName];
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { status = entry.Status.ToString(), description = entry.Description, data = entry.Data }));
    }

    private sealed record Health(HttpStatusCode Code, string Status, string Description, JsonElement Data, string Body);

    /// <summary>The app and its own fake Graph (the app is started without TestApp's, to point it at this one).</summary>
    private sealed class Running(TestApp app, FakeGraphApiServer graph, FakeTimeProvider time) : IAsyncDisposable
    {
        public TestApp App { get; } = app;

        public FakeGraphApiServer Graph { get; } = graph;

        public FakeTimeProvider Time { get; } = time;

        public DatasetQualityReports Reports => App.Services.GetRequiredService<DatasetQualityReports>();

        /// <summary>Waits until the main pixel's <paramref name="attempt"/>th fetch is done, and returns its state.</summary>
        public async Task<PixelQuality> AttemptedAsync(int attempt)
        {
            await Eventually.TrueAsync(
                () => Graph.DatasetQualityRequests.Count(r => QueryOf(r, "dataset_id") == Pixel) >= attempt && Reports.Get(Pixel)?.LastAttemptAt == Time.GetUtcNow(),
                $"fetch {attempt} of pixel {Pixel} is done\n{App.Logs.AllText}");
            return Reports.Get(Pixel)!;
        }

        /// <summary>Waits until the main pixel's <paramref name="attempt"/>th fetch has worked, and returns its state.</summary>
        public async Task<PixelQuality> FetchedAsync(int attempt)
        {
            var quality = await AttemptedAsync(attempt);
            Assert.True(quality.Status == PixelQualityStatus.Fetched, $"fetch {attempt}: {quality.Status} {quality.LastError}");
            return quality;
        }

        public async Task<Health> HealthAsync()
        {
            using var response = await App.Client.GetAsync("/health");
            var body = await response.Content.ReadAsStringAsync();
            var entry = JsonDocument.Parse(body).RootElement;
            return new Health(response.StatusCode, entry.GetProperty("status").GetString()!, entry.GetProperty("description").GetString()!, entry.GetProperty("data").Clone(), body);
        }

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            await Graph.DisposeAsync();
        }
    }
}
