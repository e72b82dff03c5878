using System.Net;
using System.Text.Json;
using CapiMiddleware.Dispatch;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Dispatch;

/// <summary>The background sender against a real HTTP fake of Graph: batching, retries, refusals.</summary>
public sealed class SendingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_thousand_and_one_events_make_two_requests()
    {
        // Simulated time: the linger cannot end while the test enqueues, however slowly a loaded machine does it, so
        // the first batch is the full thousand; then the clock moves until the last event has lingered out.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(
            o =>
            {
                o.FlushInterval = TimeSpan.FromSeconds(2);
                o.AttemptTimeout = TimeSpan.FromMinutes(5); // the steps below must not give up on a request on its way
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        for (var i = 0; i < 1001; i++)
        {
            Assert.True(await queue.EnqueueAsync(SampleEvents.Purchase($"ord-{i}")));
        }

        await app.Graph!.WaitForEventsAsync(1000, Wait);
        await Eventually.TrueAsync(
            () =>
            {
                if (app.Graph.AcceptedEvents.Count >= 1001)
                {
                    return true;
                }

                time.Advance(TimeSpan.FromMilliseconds(100));
                return false;
            },
            "the last event lingers out and arrives");
        var events = app.Graph.AcceptedEvents;
        Assert.Equal(1001, events.Select(e => e.GetProperty("event_id").GetString()).Distinct().Count());
        Assert.Equal([1000, 1], app.Graph.Requests.Select(r => r.Events.Count));
    }

    [Fact]
    public async Task The_token_travels_in_the_authorization_header_only()
    {
        await using var app = await TestApp.StartAsync();
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await app.Graph!.WaitForEventsAsync(1, Wait);

        var request = Assert.Single(app.Graph.Requests);
        Assert.False(request.AccessTokenInUrl);
        Assert.Equal("Bearer test-token", request.Headers["Authorization"]);
        Assert.DoesNotContain("test-token", request.Body);
        Assert.Equal("/v24.0/1234567890/events", request.Path);
        Assert.StartsWith("capimiddleware-", request.Json!.Value.GetProperty("partner_agent").GetString());
    }

    [Fact]
    public async Task The_test_event_code_is_sent_when_set()
    {
        await using var app = await TestApp.StartAsync(o => o.TestEventCode = "TEST12345");
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await app.Graph!.WaitForEventsAsync(1, Wait);

        Assert.Equal("TEST12345", Assert.Single(app.Graph.Requests).Json!.Value.GetProperty("test_event_code").GetString());
    }

    public static TheoryData<string, FakeResponse> TransientFailures => new()
    {
        { "HTTP 500", FakeResponse.Status(500) },
        { "HTTP 503", FakeResponse.Status(503) },
        { "HTTP 429", FakeResponse.Status(429) },
        { "Graph code 2", FakeResponse.GraphError(2, isTransient: true) },
        { "Graph code 1", FakeResponse.GraphError(1) },
        { "is_transient", FakeResponse.GraphError(99, isTransient: true) },
        { "connection reset", FakeResponse.ConnectionReset() },
        { "HTML error page", FakeResponse.HtmlErrorPage(502) },
        { "malformed 200", FakeResponse.MalformedJson() },
    };

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public async Task Temporary_failures_are_retried_until_the_event_arrives(string failure, FakeResponse response)
    {
        await using var app = await TestApp.StartAsync();
        app.Graph!.EnqueueResponse(response);
        app.Graph.EnqueueResponse(response);

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        var sent = Assert.Single(await app.Graph.WaitForEventsAsync(1, Wait));
        Assert.Equal("ord-1", sent.GetProperty("event_id").GetString());
        Assert.True(app.Graph.Requests.Count == 3, $"{failure}: {app.Graph.Requests.Count} requests");
    }

    [Fact]
    public async Task With_no_retries_a_failed_send_is_tried_once_and_goes_round_again()
    {
        await using var app = await TestApp.StartAsync(o =>
        {
            o.MaxRetryAttempts = 0;
            o.RequeueDelay = TimeSpan.FromMilliseconds(100);
        });
        app.Graph!.EnqueueResponse(FakeResponse.Status(500));

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        await app.Graph.WaitForEventsAsync(1, Wait);
        Assert.Equal(2, app.Graph.Requests.Count);
        Assert.Empty(app.Logs.WithEventId(9)); // no retry within the send: the second request is the next round
    }

    [Fact]
    public async Task Retry_after_is_honoured()
    {
        // Simulated time, shared by the app and the fake Graph (which stamps each request with it): the clock moves
        // only when the test moves it, so the gap between the two requests is the retry's delay, not the machine's.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(
            o => o.BatchSize = 1, // a full batch: the lease does not linger on the frozen clock
            services: s => s.AddSingleton<TimeProvider>(time),
            graphOptions: new FakeGraphApiOptions { TimeProvider = time });
        app.Graph!.EnqueueResponse(FakeResponse.Status(429, retryAfter: TimeSpan.FromSeconds(1)));
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await app.Graph.WaitForRequestsAsync(1, Wait);

        // The clock moves in small steps until the retry arrives; it cannot arrive before its delay has passed on it.
        await Eventually.TrueAsync(
            () =>
            {
                if (app.Graph.AcceptedEvents.Count > 0)
                {
                    return true;
                }

                time.Advance(TimeSpan.FromMilliseconds(50));
                return false;
            },
            "the retry arrives");
        var requests = app.Graph.Requests;
        Assert.Equal(2, requests.Count);
        // The base delay is 10 ms; only Retry-After can explain a second's wait.
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromSeconds(1), $"retried after {requests[1].ReceivedAt - requests[0].ReceivedAt}");
    }

    [Theory]
    [InlineData(100)]
    [InlineData(190)]
    [InlineData(200)]
    public async Task Refusals_that_retrying_cannot_fix_are_not_retried(int code)
    {
        await using var app = await TestApp.StartAsync();
        app.Graph!.EnqueueResponse(FakeResponse.GraphError(code, message: $"refused with {code}"));
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        // Logged once the send, its retries included, is over: then the entry is dead-lettered (event 7) or, for a
        // refused token (190), kept while sending pauses until the next probe a minute later (event 8).
        await Eventually.TrueAsync(() => app.Logs.WithEventId(7).Any() || app.Logs.WithEventId(8).Any(), "the refusal is acted on");
        Assert.Single(app.Graph.Requests);
        Assert.Contains($"refused with {code}", app.Logs.AllText);
        Assert.Contains($"code {code}", app.Logs.AllText);
    }

    [Fact]
    public async Task An_expired_token_keeps_the_events_and_says_what_to_fix()
    {
        await using var app = await TestApp.StartAsync();
        app.Graph!.EnqueueResponse(FakeResponse.GraphError(190, message: "Error validating access token"));
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        await app.Graph.WaitForRequestsAsync(1, Wait);
        await Eventually.TrueAsync(() => app.Logs.WithEventId(8).Any(), "the token problem is logged");
        Assert.Equal(1, await app.Services.GetRequiredService<IOutboxStore>().CountAsync(default));
        var error = Assert.Single(app.Logs.WithEventId(8));
        Assert.Contains("MetaConversions:AccessToken", error.Message);
        Assert.Contains("Error validating access token", error.Message);
    }

    [Fact]
    public async Task One_invalid_event_does_not_sink_the_others()
    {
        await using var app = await TestApp.StartAsync(o => o.FlushInterval = TimeSpan.FromMilliseconds(500));
        app.Graph!.Responder = request => request.Events.Any(e => e.GetProperty("event_id").GetString() == "ord-bad")
            ? FakeResponse.GraphError(100, 2804001, message: "Invalid parameter")
            : null;
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        for (var i = 0; i < 10; i++)
        {
            await queue.EnqueueAsync(SampleEvents.Purchase(i == 6 ? "ord-bad" : $"ord-{i}"));
        }

        var sent = await app.Graph.WaitForEventsAsync(9, Wait);
        Assert.DoesNotContain(sent, e => e.GetProperty("event_id").GetString() == "ord-bad");
        var store = app.Services.GetRequiredService<IOutboxStore>();
        await Eventually.TrueAsync(async () => await store.CountAsync(default) == 0, "every entry is acknowledged or dead-lettered");
        var dead = Assert.Single(await store.GetRecentDeadLettersAsync(10, default));
        Assert.Equal("ord-bad", dead.EventId);
        Assert.Contains("Invalid parameter", dead.Reason);
    }

    [Fact]
    public async Task The_access_token_never_appears_in_the_logs()
    {
        const string Token = "EAAB-secret-token-value";
        await using var app = await TestApp.StartAsync(o => o.AccessToken = Token);
        app.Graph!.EnqueueResponse(FakeResponse.Status(500));
        app.Graph.EnqueueResponse(FakeResponse.GraphError(190));
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        await app.Graph.WaitForRequestsAsync(2, Wait);
        await Eventually.TrueAsync(() => app.Logs.WithEventId(8).Any(), "the refused token is logged");
        Assert.NotEmpty(app.Logs.Lines);
        Assert.DoesNotContain(Token, app.Logs.AllText);
        Assert.All(app.Graph.Requests, r => Assert.False(r.AccessTokenInUrl));
    }

    [Fact]
    public async Task Without_a_token_the_exact_payload_is_logged_and_nothing_is_sent()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1", email: "Shown@Example.com"));

        await Eventually.TrueAsync(() => app.Logs.WithEventId(5).Any(), "the payload is logged");
        var line = app.Logs.WithEventId(5).First();
        Assert.Contains("\"event_id\":\"ord-1\"", line.Message);
        Assert.Contains("/v24.0/1234567890/events", line.Message);
        // hashed, never raw; the IP address masked
        Assert.DoesNotContain("Shown@Example.com", line.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"client_ip_address\":\"203.0.113.x\"", line.Message);
        var payload = JsonDocument.Parse(line.Message[line.Message.IndexOf('{')..]).RootElement;
        Assert.Equal(64, payload.GetProperty("data")[0].GetProperty("user_data").GetProperty("em")[0].GetString()!.Length);
    }

    [Fact]
    public async Task A_full_queue_drops_the_newest_event_with_a_warning_and_never_blocks()
    {
        await using var app = await TestApp.StartAsync(o => o.QueueCapacity = 2);
        app.Graph!.Responder = _ => FakeResponse.Hang();
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        var results = new List<bool>();
        for (var i = 0; i < 5; i++)
        {
            results.Add(await queue.EnqueueAsync(SampleEvents.Purchase($"ord-{i}")));
        }

        Assert.Equal([true, true, false, false, false], results);
        Assert.Equal(3, app.Logs.WithEventId(2).Count());
    }

    [Fact]
    public async Task A_checkout_does_not_wait_for_a_graph_endpoint_that_never_answers()
    {
        await using var app = await TestApp.StartAsync(o => o.AttemptTimeout = TimeSpan.FromSeconds(1));
        app.Graph!.Responder = _ => FakeResponse.Hang();

        using var response = await app.Client.PostAsync("/purchase?orderId=ord-1", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The request is complete while Graph still holds the event's request unanswered.
        await app.Graph.WaitForRequestsAsync(1, Wait);
        Assert.Null(app.Graph.Requests[0].StatusCode);
    }

    [Fact]
    public async Task Queued_events_are_sent_when_the_host_stops()
    {
        await using var app = await TestApp.StartAsync(o => o.FlushInterval = TimeSpan.FromSeconds(30));
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        for (var i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(SampleEvents.Purchase($"ord-{i}"));
        }

        await app.StopAsync();

        Assert.Equal(3, app.Graph!.AcceptedEvents.Count);
        Assert.Empty(app.Logs.WithEventId(11));
    }

    [Fact]
    public async Task With_an_app_secret_each_request_carries_the_proof_and_never_the_secret()
    {
        const string Secret = "0123456789abcdef-app-secret";
        await using var app = await TestApp.StartAsync(o => o.AppSecret = Secret);
        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await app.Graph!.WaitForEventsAsync(1, Wait);

        var request = Assert.Single(app.Graph.Requests);
        // HMAC-SHA256 of the token keyed with the secret, as Graph computes it.
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(Secret), System.Text.Encoding.UTF8.GetBytes("test-token")));
        Assert.Equal(expected, request.Json!.Value.GetProperty("appsecret_proof").GetString());
        Assert.DoesNotContain(Secret, request.Body);
        Assert.DoesNotContain(Secret, request.QueryString);
        Assert.DoesNotContain(Secret, app.Logs.AllText);
    }
}
