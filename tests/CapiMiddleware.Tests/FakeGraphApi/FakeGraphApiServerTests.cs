using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CapiMiddleware.FakeGraph;
using Xunit;

namespace CapiMiddleware.Tests.FakeGraphApi;

public sealed class FakeGraphApiServerTests
{
    private const string Token = "test-token";
    private const string EventsPath = "/v24.0/1234567890/events";
    private static readonly string EmailHash = new('a', 64);

    [Fact]
    public async Task ValidEvent_IsAcceptedAndRecorded()
    {
        await using var server = await FakeGraphApiServer.StartAsync();

        using var response = await PostAsync(server, Body(ValidEvent()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, answer.RootElement.GetProperty("events_received").GetInt32());
        Assert.Equal(0, answer.RootElement.GetProperty("messages").GetArrayLength());
        Assert.False(string.IsNullOrEmpty(answer.RootElement.GetProperty("fbtrace_id").GetString()));

        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("v24.0", request.Version);
        Assert.Equal("1234567890", request.PixelId);
        Assert.Equal(string.Empty, request.QueryString);
        Assert.Equal("Bearer " + Token, request.Headers["authorization"]);
        Assert.Equal(200, request.StatusCode);
        Assert.False(request.AccessTokenInUrl);
        Assert.NotNull(request.Json);
        Assert.Contains("\"Purchase\"", request.Body, StringComparison.Ordinal);

        var accepted = Assert.Single(server.AcceptedEvents);
        Assert.Equal("order-1", accepted.GetProperty("event_id").GetString());
        Assert.StartsWith("http://127.0.0.1:", server.BaseUrl.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenInBody_IsAccepted()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        var body = Body(ValidEvent());
        body["access_token"] = Token;

        using var response = await PostAsync(server, body, bearer: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task FiveSegmentCookies_AreAccepted()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        var ev = ValidEvent();
        ev["user_data"]!["fbc"] = "fb.1.1700000000000.IwAR2.AQQCAQMC";
        ev["user_data"]!["fbp"] = "fb.2.1596403881668.1116446470.AQQCAQMC";
        ev["user_data"]!["client_ip_address"] = "2001:db8::1";

        using var response = await PostAsync(server, Body(ev));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnhashedEmail_IsRejectedWithCode100()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        var second = ValidEvent();
        second["user_data"]!["em"] = new JsonArray(EmailHash, "someone@example.com");

        using var response = await PostAsync(server, Body(ValidEvent(), second));

        var error = await AssertGraphErrorAsync(response, 100, GraphErrorCodes.NotHashedSubcode);
        var userMessage = error.GetProperty("error_user_msg").GetString()!;
        Assert.Contains("data[1]", userMessage, StringComparison.Ordinal);
        Assert.Contains("user_data.em[1]", userMessage, StringComparison.Ordinal);
        Assert.False(error.GetProperty("is_transient").GetBoolean());
        Assert.Empty(server.AcceptedEvents);
        Assert.Equal(400, Assert.Single(server.Requests).StatusCode);
    }

    [Theory]
    [InlineData("uppercase hash", GraphErrorCodes.NotHashedSubcode)]
    [InlineData("bad fbc", GraphErrorCodes.InvalidFbcSubcode)]
    [InlineData("bad fbp", GraphErrorCodes.InvalidFbpSubcode)]
    [InlineData("bad ip", GraphErrorCodes.InvalidIpAddressSubcode)]
    [InlineData("website without user agent", GraphErrorCodes.MissingWebsiteFieldsSubcode)]
    [InlineData("website without url", GraphErrorCodes.MissingWebsiteFieldsSubcode)]
    [InlineData("future event", GraphErrorCodes.EventTimeOutOfRangeSubcode)]
    [InlineData("string event_time", GraphErrorCodes.EventTimeOutOfRangeSubcode)]
    [InlineData("unknown action_source", GraphErrorCodes.InvalidActionSourceSubcode)]
    [InlineData("empty event_name", GraphErrorCodes.InvalidEventNameSubcode)]
    [InlineData("empty event_id", GraphErrorCodes.InvalidEventIdSubcode)]
    [InlineData("purchase without currency", GraphErrorCodes.InvalidCustomDataSubcode)]
    [InlineData("string value", GraphErrorCodes.InvalidCustomDataSubcode)]
    [InlineData("contents without quantity", GraphErrorCodes.InvalidCustomDataSubcode)]
    [InlineData("phone order without customer information", GraphErrorCodes.InvalidUserDataSubcode)]
    public async Task InvalidEvent_IsRejectedWithSubcode(string problem, int subcode)
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        var ev = ValidEvent();
        var userData = ev["user_data"]!.AsObject();
        var customData = ev["custom_data"]!.AsObject();
        switch (problem)
        {
            case "uppercase hash": userData["em"] = EmailHash.ToUpperInvariant().Replace('A', 'F'); break;
            case "bad fbc": userData["fbc"] = "fb.1.notdigits.IwAR2"; break;
            case "bad fbp": userData["fbp"] = "fb.1.1596403881668"; break;
            case "bad ip": userData["client_ip_address"] = "1"; break;
            case "website without user agent": userData.Remove("client_user_agent"); break;
            case "website without url": ev.Remove("event_source_url"); break;
            case "future event": ev["event_time"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(); break;
            case "string event_time": ev["event_time"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(); break;
            case "unknown action_source": ev["action_source"] = "web"; break;
            case "empty event_name": ev["event_name"] = ""; break;
            case "empty event_id": ev["event_id"] = ""; break;
            case "purchase without currency": customData.Remove("currency"); break;
            case "string value": customData["value"] = "12.50"; break;
            case "contents without quantity": customData["contents"] = new JsonArray(new JsonObject { ["id"] = "sku-1" }); break;
            case "phone order without customer information":
                ev["action_source"] = "phone_call";
                ev.Remove("event_source_url");
                userData.Clear();
                break;
            default: throw new ArgumentOutOfRangeException(nameof(problem));
        }

        using var response = await PostAsync(server, Body(ev));

        await AssertGraphErrorAsync(response, 100, subcode);
        Assert.Empty(server.AcceptedEvents);
    }

    [Fact]
    public async Task ThousandAndOneEvents_AreRejected_ThousandAccepted()
    {
        await using var server = await FakeGraphApiServer.StartAsync();

        using var tooMany = await PostAsync(server, Body(Enumerable.Range(0, 1001).Select(_ => ValidEvent()).ToArray()));
        var error = await AssertGraphErrorAsync(tooMany, 100, subcode: null);
        Assert.Contains("1000", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        using var limit = await PostAsync(server, Body(Enumerable.Range(0, 1000).Select(_ => ValidEvent()).ToArray()));
        Assert.Equal(HttpStatusCode.OK, limit.StatusCode);
        Assert.Equal(1000, server.AcceptedEvents.Count);
    }

    [Fact]
    public async Task TokenInUrl_IsRejectedAndFlagged()
    {
        await using var server = await FakeGraphApiServer.StartAsync();

        using var response = await PostAsync(server, Body(ValidEvent()), path: EventsPath + "?access_token=" + Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var request = Assert.Single(server.Requests);
        Assert.True(request.AccessTokenInUrl);
        Assert.Equal("?access_token=" + Token, request.QueryString);
        Assert.Empty(server.AcceptedEvents);
    }

    [Theory]
    [InlineData("wrong-token")]
    [InlineData(null)]
    public async Task WrongOrMissingToken_IsRejectedWithCode190(string? bearer)
    {
        await using var server = await FakeGraphApiServer.StartAsync();

        using var response = await PostAsync(server, Body(ValidEvent()), bearer);

        var error = await AssertGraphErrorAsync(response, 190, subcode: null);
        Assert.Equal("OAuthException", error.GetProperty("type").GetString());
        if (bearer is not null)
        {
            Assert.StartsWith("Invalid OAuth access token", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EventTimeEightDaysOld_IsRejected_ButNotForPhysicalStore()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        var eightDaysAgo = DateTimeOffset.UtcNow.AddDays(-8).ToUnixTimeSeconds();

        using var website = await PostAsync(server, Body(ValidEvent(eightDaysAgo)));
        await AssertGraphErrorAsync(website, 100, GraphErrorCodes.EventTimeOutOfRangeSubcode);

        var store = ValidEvent(eightDaysAgo);
        store["action_source"] = "physical_store";
        using var physical = await PostAsync(server, Body(store));
        Assert.Equal(HttpStatusCode.OK, physical.StatusCode);
    }

    [Fact]
    public async Task EventTimeWindow_FollowsTheTimeProvider()
    {
        var then = new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { TimeProvider = new FixedTimeProvider(then) });

        using var atThen = await PostAsync(server, Body(ValidEvent(then.AddHours(-1).ToUnixTimeSeconds())));
        using var atNow = await PostAsync(server, Body(ValidEvent(DateTimeOffset.UtcNow.ToUnixTimeSeconds())));

        Assert.Equal(HttpStatusCode.OK, atThen.StatusCode);
        await AssertGraphErrorAsync(atNow, 100, GraphErrorCodes.EventTimeOutOfRangeSubcode);
        Assert.Equal(then, server.Requests[0].ReceivedAt);
    }

    [Fact]
    public async Task PinnedApiVersion_RejectsOtherVersions()
    {
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { ApiVersion = "v25.0" });

        using var wrong = await PostAsync(server, Body(ValidEvent()));
        using var right = await PostAsync(server, Body(ValidEvent()), path: "/v25.0/1234567890/events");

        await AssertGraphErrorAsync(wrong, GraphErrorCodes.UnknownPath, subcode: null);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task Scripted500_ThenNormalValidation()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        server.EnqueueResponse(FakeResponse.Status(500));

        using var first = await PostAsync(server, Body(ValidEvent()));
        using var second = await PostAsync(server, Body(ValidEvent()));

        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(FakeResponseKind.Status, requests[0].ScriptedResponse?.Kind);
        Assert.Null(requests[1].ScriptedResponse);
        Assert.Single(server.AcceptedEvents);
    }

    [Fact]
    public async Task ScriptedAnswer_IsUsedEvenForAnInvalidRequest()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        server.EnqueueResponse(FakeResponse.GraphError(2, isTransient: true, httpStatus: 500));

        using var response = await PostAsync(server, Body(ValidEvent()), bearer: "wrong-token");

        var error = await AssertGraphErrorAsync(response, 2, subcode: null, HttpStatusCode.InternalServerError);
        Assert.True(error.GetProperty("is_transient").GetBoolean());
    }

    [Fact]
    public async Task RetryAfter_IsSentInSeconds()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        server.EnqueueResponse(FakeResponse.Status(429, retryAfter: TimeSpan.FromSeconds(2)));
        server.EnqueueResponse(FakeResponse.GraphError(613, httpStatus: 429, retryAfter: TimeSpan.FromMilliseconds(1500)));

        using var status = await PostAsync(server, Body(ValidEvent()));
        using var graph = await PostAsync(server, Body(ValidEvent()));

        Assert.Equal(HttpStatusCode.TooManyRequests, status.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), status.Headers.RetryAfter?.Delta);
        Assert.Equal(TimeSpan.FromSeconds(2), graph.Headers.RetryAfter?.Delta);
        await AssertGraphErrorAsync(graph, 613, subcode: null, HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task MalformedJson_And_HtmlErrorPage()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        server.EnqueueResponse(FakeResponse.MalformedJson());
        server.EnqueueResponse(FakeResponse.HtmlErrorPage(503));

        using var malformed = await PostAsync(server, Body(ValidEvent()));
        using var html = await PostAsync(server, Body(ValidEvent()));

        Assert.Equal(HttpStatusCode.OK, malformed.StatusCode);
        var text = await malformed.Content.ReadAsStringAsync();
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, html.StatusCode);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Empty(server.AcceptedEvents);
    }

    [Fact]
    public async Task ConnectionReset_FailsTheClientAndIsRecorded()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        server.EnqueueResponse(FakeResponse.ConnectionReset());

        await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync(server, Body(ValidEvent())));

        var request = Assert.Single(server.Requests);
        Assert.Null(request.StatusCode);
        Assert.Equal(FakeResponseKind.ConnectionReset, request.ScriptedResponse?.Kind);
    }

    [Fact]
    public async Task Hang_LastsUntilTheClientGivesUp_AndDoesNotBlockDispose()
    {
        var server = await FakeGraphApiServer.StartAsync();
        server.EnqueueResponse(FakeResponse.Hang());
        server.EnqueueResponse(FakeResponse.Hang());

        using (var client = new HttpClient { BaseAddress = server.BaseUrl })
        using (var giveUp = new CancellationTokenSource())
        {
            var hanging = client.PostAsync(EventsPath, Content(Body(ValidEvent())), giveUp.Token);
            // Give up only once the server holds the request: the first request of a cold process can be slow.
            await server.WaitForRequestsAsync(1, TimeSpan.FromSeconds(5));
            giveUp.CancelAfter(TimeSpan.FromMilliseconds(100));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hanging);
            Assert.Null(server.Requests[0].StatusCode);
        }

        // A second hung request still open when the server goes away.
        using var pending = new HttpClient { BaseAddress = server.BaseUrl };
        var stillHanging = pending.PostAsync(EventsPath, Content(Body(ValidEvent())));
        await server.WaitForRequestsAsync(2, TimeSpan.FromSeconds(5));

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(4), $"Dispose took {stopwatch.Elapsed}.");
        await Assert.ThrowsAsync<HttpRequestException>(() => stillHanging);
    }

    [Fact]
    public async Task DelayedAnswer_IsDelayed()
    {
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { ResponseDelay = TimeSpan.FromMilliseconds(50) });
        server.EnqueueResponse(FakeResponse.Delayed(TimeSpan.FromMilliseconds(100), FakeResponse.Status(200)));

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await PostAsync(server, Body(ValidEvent()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(140), $"Answered after {stopwatch.Elapsed}.");
        Assert.Single(server.AcceptedEvents);
    }

    [Fact]
    public async Task Responder_RejectsBatchesContainingAnEventId()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        server.Responder = request => request.Events.Any(e => e.TryGetProperty("event_id", out var id) && id.GetString() == "poison")
            ? FakeResponse.GraphError(100, GraphErrorCodes.NotHashedSubcode, message: "Invalid parameter")
            : null;
        var poison = ValidEvent();
        poison["event_id"] = "poison";

        using var batch = await PostAsync(server, Body(ValidEvent(), poison));
        using var clean = await PostAsync(server, Body(ValidEvent()));

        await AssertGraphErrorAsync(batch, 100, GraphErrorCodes.NotHashedSubcode);
        Assert.Equal(HttpStatusCode.OK, clean.StatusCode);
        Assert.Single(server.AcceptedEvents);
    }

    [Fact]
    public async Task WaitForEventsAsync_CompletesWhenEventsArrive()
    {
        await using var server = await FakeGraphApiServer.StartAsync();

        var waiting = server.WaitForEventsAsync(3, TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);
        using var first = await PostAsync(server, Body(ValidEvent(), ValidEvent()));
        Assert.False(waiting.IsCompleted);
        using var second = await PostAsync(server, Body(ValidEvent()));

        var events = await waiting;
        Assert.Equal(3, events.Count);
    }

    [Fact]
    public async Task WaitForEventsAsync_TimesOutWithAClearMessage()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        using var accepted = await PostAsync(server, Body(ValidEvent()));
        var bad = ValidEvent();
        bad["user_data"]!["em"] = "someone@example.com";
        using var rejected = await PostAsync(server, Body(bad));

        var exception = await Assert.ThrowsAsync<TimeoutException>(() => server.WaitForEventsAsync(2, TimeSpan.FromMilliseconds(100)));

        Assert.Contains("expected at least 2 accepted events", exception.Message, StringComparison.Ordinal);
        Assert.Contains("but 1 arrived", exception.Message, StringComparison.Ordinal);
        Assert.Contains("2804016", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForRequestsAsync_CountsRejectedRequests()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        using var rejected = await PostAsync(server, Body(ValidEvent()), bearer: "wrong-token");

        var requests = await server.WaitForRequestsAsync(1, TimeSpan.FromSeconds(1));

        Assert.Single(requests);
        await Assert.ThrowsAsync<TimeoutException>(() => server.WaitForRequestsAsync(2, TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task Reset_ForgetsEverything()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        using var accepted = await PostAsync(server, Body(ValidEvent()));
        server.EnqueueResponse(FakeResponse.Status(500));
        server.Responder = _ => FakeResponse.Status(503);

        server.Reset();
        using var afterReset = await PostAsync(server, Body(ValidEvent()));

        Assert.Equal(HttpStatusCode.OK, afterReset.StatusCode);
        Assert.Equal(0, Assert.Single(server.Requests).Sequence);
        Assert.Single(server.AcceptedEvents);
    }

    [Fact]
    public async Task CountOnly_CountsTheEventsOfEachBody_AndChecksNothing()
    {
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true });

        // Neither the path, the token nor the events are checked.
        using var few = await PostAsync(server, Body(ValidEvent(0), ValidEvent(0), ValidEvent(0)), bearer: "any", path: "/anything");
        // Large enough to arrive in several reads, so event starts fall across their edges.
        using var many = await PostAsync(server, Body(Enumerable.Range(0, 1000).Select(_ => ValidEvent()).ToArray()));

        Assert.Equal(3, await EventsReceivedAsync(few));
        Assert.Equal(1000, await EventsReceivedAsync(many));
        Assert.Equal(2, server.RequestCount);
        Assert.Equal(1003, server.EventsReceived);
    }

    [Fact]
    public async Task CountOnly_RefusesWhatNeedsTheRequestsRecorded()
    {
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true });

        var refused = new Action[]
        {
            () => _ = server.Requests,
            () => _ = server.AcceptedEvents,
            () => server.Responder = _ => null,
            () => server.EnqueueResponse(FakeResponse.Status(200)),
            () => server.Reset(),
        };
        foreach (var action in refused)
        {
            Assert.Contains("CountOnly", Assert.Throws<InvalidOperationException>(action).Message, StringComparison.Ordinal);
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => server.WaitForEventsAsync(1, TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<ArgumentException>(() => FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { Tally = new EventTally(1) }));
    }

    [Fact]
    public async Task CountOnly_WithATally_TalliesTheNumberedEventIds()
    {
        var tally = new EventTally(3);
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true, Tally = tally });
        var events = new[] { 0, 2, 2 }.Select(n =>
        {
            var e = ValidEvent();
            e["event_id"] = EventTally.IdOf(n);
            return e;
        }).ToArray();

        using var response = await PostAsync(server, Body(events));

        Assert.Equal(3, await EventsReceivedAsync(response));
        Assert.Equal((2, 1), tally.Totals(3));
    }

    [Fact]
    public async Task CountOnly_WithATallyOfSenders_NotesWhichTokenSentEachEvent()
    {
        var tally = new EventTally(3, ["node-a", "node-b"]);
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true, Tally = tally });
        JsonObject[] Events(params int[] numbers) => numbers.Select(n =>
        {
            var e = ValidEvent();
            e["event_id"] = EventTally.IdOf(n);
            return e;
        }).ToArray();

        using (await PostAsync(server, Body(Events(0, 1)), bearer: "node-a"))
        using (await PostAsync(server, Body(Events(1)), bearer: "node-b"))
        using (await PostAsync(server, Body(Events(2)), bearer: "someone-else"))
        {
        }

        Assert.Equal([1, 2, 1], new[] { tally.TimesOf(0), tally.TimesOf(1), tally.TimesOf(2) });
        Assert.Equal([0b01, 0b11, 0], new[] { tally.SentBy(0), tally.SentBy(1), tally.SentBy(2) });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Down_FailsEveryRequest_TheThirdAfterTheHangTime_UntilUp(bool countOnly)
    {
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = countOnly });
        server.HangTime = TimeSpan.FromMilliseconds(20);
        server.Down = true;

        for (var i = 0; i < 3; i++)
        {
            using var failed = await PostAsync(server, Body(ValidEvent()));
            var error = await AssertGraphErrorAsync(failed, 2, null, HttpStatusCode.ServiceUnavailable);
            Assert.True(error.GetProperty("is_transient").GetBoolean());
        }

        server.Down = false;
        using var up = await PostAsync(server, Body(ValidEvent()));

        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        Assert.Equal(3, server.FailedRequests);
        Assert.Equal(4, server.RequestCount);
        Assert.Equal(1, server.EventsReceived);
        if (!countOnly)
        {
            Assert.Equal([503, 503, 503, 200], server.Requests.Select(r => r.StatusCode ?? 0));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TokenRevoked_RefusesTheRightTokenWithCode190(bool countOnly)
    {
        await using var server = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = countOnly });
        server.TokenRevoked = true;

        using var refused = await PostAsync(server, Body(ValidEvent()));

        await AssertGraphErrorAsync(refused, GraphErrorCodes.InvalidAccessToken, null);
        Assert.Equal(0, server.EventsReceived);
    }

    private static async Task<int> EventsReceivedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("events_received").GetInt32();
    }

    private static JsonObject ValidEvent(long? eventTime = null) => new()
    {
        ["event_name"] = "Purchase",
        ["event_time"] = eventTime ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["event_id"] = "order-1",
        ["action_source"] = "website",
        ["event_source_url"] = "https://shop.example.com/checkout/done",
        ["user_data"] = new JsonObject
        {
            ["em"] = EmailHash,
            ["ph"] = new JsonArray(new string('b', 64)),
            ["fbc"] = "fb.1.1700000000000.IwAR2xyz",
            ["fbp"] = "fb.1.1596403881668.1116446470",
            ["client_ip_address"] = "203.0.113.7",
            ["client_user_agent"] = "Mozilla/5.0 (X11; Linux x86_64)",
        },
        ["custom_data"] = new JsonObject
        {
            ["value"] = 12.5,
            ["currency"] = "EUR",
            ["contents"] = new JsonArray(new JsonObject { ["id"] = "sku-1", ["quantity"] = 2, ["item_price"] = 6.25 }),
        },
    };

    private static JsonObject Body(params JsonObject[] events) => new() { ["data"] = new JsonArray(events) };

    private static StringContent Content(JsonObject body) =>
        new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<HttpResponseMessage> PostAsync(
        FakeGraphApiServer server,
        JsonObject body,
        string? bearer = Token,
        string path = EventsPath)
    {
        using var client = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Content(body) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return await client.SendAsync(request);
    }

    private static async Task<JsonElement> AssertGraphErrorAsync(
        HttpResponseMessage response,
        int code,
        int? subcode,
        HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        var error = document.RootElement.GetProperty("error").Clone();
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        if (subcode is null)
        {
            Assert.False(error.TryGetProperty("error_subcode", out _), text);
        }
        else
        {
            Assert.Equal(subcode, error.GetProperty("error_subcode").GetInt32());
        }

        Assert.False(string.IsNullOrEmpty(error.GetProperty("fbtrace_id").GetString()));
        return error;
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
