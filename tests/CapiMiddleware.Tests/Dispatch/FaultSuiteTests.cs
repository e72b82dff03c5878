using System.Text.Json;
using CapiMiddleware.Dispatch;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CapiMiddleware.Tests.Dispatch;

/// <summary>
/// The fault suite: the fake Graph API answers with scripted failures, and for each kind N events go in and every
/// event ID must come out at Meta's side: none lost, none stuck. Duplicates (Meta deduplicates by event ID) are
/// counted and printed. Delays are shortened by options so the suite runs in seconds on real time.
/// </summary>
public sealed class FaultSuiteTests(ITestOutputHelper output)
{
    private const int Events = 30;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, Func<IEnumerable<FakeResponse>>> Faults = new()
    {
        ["HTTP 500"] = () => Times(4, () => FakeResponse.Status(500)),
        ["HTTP 503"] = () => Times(4, () => FakeResponse.Status(503)),
        ["HTTP 429 with Retry-After"] = () => Times(2, () => FakeResponse.Status(429, retryAfter: TimeSpan.FromSeconds(1))),
        ["Graph code 1"] = () => Times(4, () => FakeResponse.GraphError(1)),
        ["Graph code 2"] = () => Times(4, () => FakeResponse.GraphError(2, isTransient: true, httpStatus: 503)),
        ["Graph code 4 (throttled)"] = () => Times(3, () => FakeResponse.GraphError(4)),
        ["Graph code 17 (throttled)"] = () => Times(3, () => FakeResponse.GraphError(17)),
        ["Graph code 32 (throttled)"] = () => Times(3, () => FakeResponse.GraphError(32)),
        ["Graph code 613 (throttled)"] = () => Times(3, () => FakeResponse.GraphError(613)),
        ["is_transient"] = () => Times(4, () => FakeResponse.GraphError(9007, isTransient: true)),
        ["connection reset"] = () => Times(4, FakeResponse.ConnectionReset),
        ["hang longer than the attempt time-out"] = () => Times(2, FakeResponse.Hang),
        ["3 s answers"] = () => Times(2, () => FakeResponse.Status(200).WithDelay(TimeSpan.FromSeconds(3))),
        ["answers after the client gave up"] = () => Times(2, () => FakeResponse.Status(200).WithDelay(TimeSpan.FromSeconds(1))),
        ["malformed JSON"] = () => Times(4, FakeResponse.MalformedJson),
        ["HTML error page"] = () => Times(4, () => FakeResponse.HtmlErrorPage(502)),
        ["token expired (190), then fixed"] = () => Times(2, () => FakeResponse.GraphError(190, message: "Error validating access token")),
        ["storm of everything"] = () =>
        [
            FakeResponse.Status(500), FakeResponse.Status(503), FakeResponse.Status(429, retryAfter: TimeSpan.FromSeconds(1)),
            FakeResponse.GraphError(1), FakeResponse.GraphError(2), FakeResponse.GraphError(4), FakeResponse.GraphError(17),
            FakeResponse.GraphError(32), FakeResponse.GraphError(613), FakeResponse.GraphError(1, isTransient: true),
            FakeResponse.ConnectionReset(), FakeResponse.Hang(), FakeResponse.MalformedJson(), FakeResponse.HtmlErrorPage(),
            FakeResponse.Status(200).WithDelay(TimeSpan.FromSeconds(1)), FakeResponse.GraphError(190),
        ],
    };

    public static TheoryData<string> Scenarios => [.. Faults.Keys];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Every_event_arrives_through(string scenario)
    {
        await using var app = await StartAsync(scenario);
        foreach (var response in Faults[scenario]())
        {
            app.Graph!.EnqueueResponse(response);
        }

        var ids = await EnqueueAsync(app, scenario);
        var store = app.Services.GetRequiredService<IOutboxStore>();
        await Eventually.TrueAsync(async () => Arrived(app).Distinct().Count() == Events && await store.CountAsync(default) == 0,
            $"all {Events} events of '{scenario}' arrive and none is left in the store", Deadline);

        var arrived = Arrived(app);
        Assert.Equal(ids.Order(), arrived.Distinct().Order());
        Assert.Empty(await store.GetRecentDeadLettersAsync(10, default));
        output.WriteLine($"{scenario}: {Events} in, {arrived.Distinct().Count()} arrived, {arrived.Count - Events} duplicates, {app.Graph!.Requests.Count} requests");
        if (arrived.Count > Events)
        {
            // Say where duplicates came from: typically an attempt that timed out after Meta had accepted it.
            foreach (var line in app.Logs.WithEventId(9))
            {
                output.WriteLine("   " + line.Message);
            }
        }
    }

    [Fact]
    public async Task One_invalid_event_in_a_batch_is_dead_lettered_and_every_other_event_arrives()
    {
        await using var app = await StartAsync("code 100");
        app.Graph!.Responder = request => request.Events.Any(e => e.GetProperty("event_id").GetString() == "code100-7")
            ? FakeResponse.GraphError(100, 2804001, message: "The click ID is incorrectly formatted")
            : null;

        var ids = await EnqueueAsync(app, "code100");
        var store = app.Services.GetRequiredService<IOutboxStore>();
        await Eventually.TrueAsync(async () => await store.CountAsync(default) == 0, "every entry is acknowledged or dead-lettered", Deadline);

        Assert.Equal(ids.Where(id => id != "code100-7").Order(), Arrived(app).Distinct().Order());
        var dead = Assert.Single(await store.GetRecentDeadLettersAsync(10, default));
        Assert.Equal("code100-7", dead.EventId);
        Assert.Contains("incorrectly formatted", dead.Reason);
        output.WriteLine($"code 100: {Events} in, {Arrived(app).Distinct().Count()} arrived, 1 dead-lettered, {app.Graph.Requests.Count} requests");
    }

    private static Task<TestApp> StartAsync(string scenario) => TestApp.StartAsync(o =>
    {
        o.BatchSize = 10;
        o.MaxRetryAttempts = 2;
        o.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
        o.RequeueDelay = TimeSpan.FromMilliseconds(100);
        o.TokenProbeInterval = TimeSpan.FromMilliseconds(200);
        o.AttemptTimeout = scenario == "3 s answers" ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(500);
    });

    private static async Task<List<string>> EnqueueAsync(TestApp app, string scenario)
    {
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        var prefix = new string(scenario.Where(char.IsAsciiLetterOrDigit).ToArray());
        var ids = Enumerable.Range(0, Events).Select(i => $"{prefix}-{i}").ToList();
        foreach (var id in ids)
        {
            Assert.True(await queue.EnqueueAsync(SampleEvents.Purchase(id)));
        }

        return ids;
    }

    private static List<string> Arrived(TestApp app) =>
        [.. app.Graph!.AcceptedEvents.Select(e => e.GetProperty("event_id").GetString()!)];

    private static IEnumerable<FakeResponse> Times(int count, Func<FakeResponse> response) =>
        Enumerable.Range(0, count).Select(_ => response());
}
