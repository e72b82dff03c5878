using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using CapiMiddleware.Tests.Sample;
using Xunit.Abstractions;

namespace CapiMiddleware.Tests.Crash;

/// <summary>
/// The crash suite: the sample shop as a separate process with a durable outbox takes 500 checkouts while the Graph
/// endpoint fails, is killed with SIGKILL in the middle of the burst, and restarts (or, with Redis, its twin carries
/// on): every order that a shopper saw confirmed reaches Meta.
/// </summary>
public sealed partial class CrashSuiteTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const int Checkouts = 500;
    private FakeGraphApiServer _graph = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        _graph = await FakeGraphApiServer.StartAsync();
        _folder = Directory.CreateTempSubdirectory("capi-crash-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Sqlite_outbox_delivers_every_confirmed_order_after_a_kill_9_mid_burst()
    {
        var environment = Environment("sqlite", ("MetaConversions__Outbox__Path", Path.Combine(_folder, "outbox.db")));
        _graph.Responder = _ => FakeResponse.Status(503); // Meta is down during the burst

        var first = await SampleProcess.StartAsync(environment);
        var burst = new Burst([first]);
        var running = burst.RunAsync(Checkouts);
        await Eventually.TrueAsync(() => burst.Confirmed.Count >= Checkouts / 2, "half the checkouts are confirmed", TimeSpan.FromSeconds(60));
        first.Kill(); // while the shoppers are still posting
        output.WriteLine($"killed with {burst.Confirmed.Count} checkouts confirmed and {burst.Failed} failing in flight");
        await first.DisposeAsync();

        await using var second = await SampleProcess.StartAsync(environment);
        burst.Shops = [second];
        await running;
        _graph.Responder = null; // Meta is back

        await AssertAllArriveAsync(burst.Confirmed);
    }

    [SkippableFact]
    public async Task Redis_outbox_delivers_every_confirmed_order_when_one_of_two_nodes_is_killed_mid_burst()
    {
        redis.Require();
        var environment = Environment("redis", ("MetaConversions__Outbox__Redis", redis.ConnectionString),
            ("MetaConversions__Outbox__RedisKeyPrefix", "crash-" + Guid.NewGuid().ToString("N")[..8]));
        _graph.Responder = _ => FakeResponse.Status(503);

        var doomed = await SampleProcess.StartAsync(environment);
        await using var survivor = await SampleProcess.StartAsync(environment);
        var burst = new Burst([doomed, survivor]);
        var running = burst.RunAsync(Checkouts);
        await Eventually.TrueAsync(() => burst.Confirmed.Count >= Checkouts / 2, "half the checkouts are confirmed", TimeSpan.FromSeconds(60));
        doomed.Kill();
        burst.Shops = [survivor];
        output.WriteLine($"killed one node with {burst.Confirmed.Count} checkouts confirmed and {burst.Failed} failing in flight");
        await doomed.DisposeAsync();

        await running;
        _graph.Responder = null;

        await AssertAllArriveAsync(burst.Confirmed);
    }

    private Dictionary<string, string> Environment(string provider, params (string Key, string Value)[] more)
    {
        var environment = new Dictionary<string, string>
        {
            ["MetaConversions__PixelId"] = "1234567890",
            ["MetaConversions__AccessToken"] = _graph.Options.ExpectedAccessToken,
            ["MetaConversions__GraphApiBaseUrl"] = _graph.BaseUrl.ToString(),
            ["MetaConversions__FlushInterval"] = "00:00:00.050",
            ["MetaConversions__MaxRetryAttempts"] = "1",
            ["MetaConversions__RetryBaseDelay"] = "00:00:00.050",
            ["MetaConversions__RequeueDelay"] = "00:00:00.500",
            ["MetaConversions__Outbox__Provider"] = provider,
            ["MetaConversions__Outbox__LeaseTimeout"] = "00:00:02",
            // A request that stops waiting for its commit (the 50 ms default budget, on a loaded machine) has its event
            // in flight, and a kill -9 at that moment loses it: "every confirmed order" needs a budget above the worst commit.
            ["MetaConversions__Outbox__EnqueueBudget"] = "00:00:10",
        };
        foreach (var (key, value) in more)
        {
            environment[key] = value;
        }

        return environment;
    }

    private async Task AssertAllArriveAsync(ConcurrentBag<string> confirmed)
    {
        var expected = confirmed.ToHashSet();
        Assert.Equal(Checkouts, expected.Count);
        HashSet<string> Arrived() => _graph.AcceptedEvents.Select(e => e.GetProperty("event_id").GetString()!).ToHashSet();
        await Eventually.TrueAsync(() => expected.IsSubsetOf(Arrived()),
            $"all {Checkouts} confirmed orders reach the fake Graph API", TimeSpan.FromSeconds(90));
        var arrived = _graph.AcceptedEvents.Count(e => expected.Contains(e.GetProperty("event_id").GetString()!));
        output.WriteLine($"{Checkouts} confirmed orders, all arrived ({arrived - Checkouts} duplicates, which Meta deduplicates by event ID)");
    }

    [GeneratedRegex("<strong id=\"order-id\">([^<]+)</strong>")]
    private static partial Regex OrderId();

    /// <summary>
    /// Four shoppers checking out in parallel against whichever shops are up. A checkout counts as confirmed only when
    /// its confirmation page arrived; one cut off by the kill is just a failed request, as for a real shopper.
    /// </summary>
    private sealed class Burst(IReadOnlyList<SampleProcess> shops)
    {
        private int _failed;
        private int _next;
        private int _taken;

        public volatile IReadOnlyList<SampleProcess> Shops = shops;

        public ConcurrentBag<string> Confirmed { get; } = [];

        public int Failed => Volatile.Read(ref _failed);

        public Task RunAsync(int until) => Task.WhenAll(Enumerable.Range(0, 4).Select(async shopper =>
        {
            while (Confirmed.Count < until)
            {
                var shop = Shops[Interlocked.Increment(ref _next) % Shops.Count];
                using var client = new HttpClient { BaseAddress = shop.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
                client.DefaultRequestHeaders.UserAgent.ParseAdd(TestApp.UserAgent);
                client.DefaultRequestHeaders.Add("Cookie", $"{SampleShop.ConsentCookieName}={SampleShop.ConsentCookieValue}"); // accepted the banner
                try
                {
                    using var response = await client.PostAsync("/checkout", new FormUrlEncodedContent([new("email", $"crash{shopper}@example.com")]));
                    var orderId = OrderId().Match(await response.Content.ReadAsStringAsync()).Groups[1].Value;
                    // One slot per confirmed order: four shoppers checking Count and then adding could take 501.
                    if (response.IsSuccessStatusCode && orderId.Length > 0 && Interlocked.Increment(ref _taken) <= until)
                    {
                        Confirmed.Add(orderId);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Increment(ref _failed);
                    await Task.Delay(50);
                }
            }
        }));
    }
}
