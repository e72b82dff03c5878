using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CapiMiddleware.FakeGraph;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// The sample shop's checkout (<c>POST /checkout</c>) with Graph 300 ms away, as four apps on loopback Kestrel run in
/// alternating rounds: the library off (<c>MetaConversions:Enabled=false</c>), the library with the memory outbox,
/// with the <c>sqlite</c> outbox, and the naive way (<see cref="NaiveCheckoutController"/>, the library off). Each
/// app is the sample's own <c>Program</c>. Library and baseline are driven by one client each, one checkout at a time and
/// taking turns checkout by checkout, so their latency is the request's own and the machine's noise falls on all three
/// alike; the naive app, whose every request waits 300 ms, by 16 clients at once, in rounds between.
/// </summary>
internal static partial class CheckoutLatency
{
    private static readonly TimeSpan GraphDistance = TimeSpan.FromMilliseconds(300);
    private const string UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";

    private const int WarmUpCheckouts = 500;
    private const int JitSpellTurns = 300;
    private const int QuietSpellMethods = 10;
    private const int MaxJitSpells = 40;

    public static async Task<bool> RunAsync(bool smoke)
    {
        var rounds = smoke ? 1 : 5;
        var perRound = smoke ? 5 : 1_000;
        var naiveClients = smoke ? 2 : 16;
        var naivePerClient = smoke ? 1 : 8;
        Console.WriteLine($"## Checkout latency, Graph {GraphDistance.TotalMilliseconds:0} ms away: {rounds} alternating rounds; " +
            $"{perRound} checkouts per round per app, one at a time, the apps taking turns; naive {naiveClients} clients × {naivePerClient}");

        await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true, ResponseDelay = GraphDistance });
        await using var naiveGraph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true, ResponseDelay = GraphDistance }); // so `graph` counts the library's events alone
        var sqlitePath = Path.Combine(Path.GetTempPath(), $"capi-latency-{Guid.NewGuid():N}.db");
        var variants = new List<Variant>
        {
            new("library off (baseline)", "/checkout", 1, perRound, new() { ["MetaConversions:Enabled"] = "false" }),
            new("library, memory outbox", "/checkout", 1, perRound, new()),
            new("library, sqlite outbox", "/checkout", 1, perRound, new() { ["MetaConversions:Outbox:Provider"] = "sqlite", ["MetaConversions:Outbox:Path"] = sqlitePath }),
            new("naive: await PostAsync to Graph", "/naive/checkout", naiveClients, naivePerClient, new() { ["MetaConversions:Enabled"] = "false" }, Naive: true),
        };

        try
        {
            foreach (var variant in variants)
            {
                await variant.StartAsync((variant.Naive ? naiveGraph : graph).BaseUrl.GetLeftPart(UriPartial.Authority));
                // Warm-up, not recorded: views, connections, and the JIT, whose tiering takes a few hundred calls of a
                // path; the 20 there were before left the first recorded checkouts running code not yet optimized, and
                // the library apps have paths (the outboxes) that the baseline lacks.
                await variant.RunRoundAsync(smoke ? 1 : variant.Naive ? 2 : WarmUpCheckouts, record: false);
            }

            var sequential = variants.Where(v => !v.Naive).ToArray();
            var naiveApp = variants.Single(v => v.Naive);

            // Then warm-up as the recorded rounds run, until the JIT is done; the sequential apps take turns, then the
            // naive app's round.
            var warm = new JitWarmUp(0, false);
            if (!smoke)
            {
                await naiveApp.RunRoundAsync(null, record: false);
                warm = await WarmUntilJitQuietAsync(sequential);
            }

            var compiledBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            for (var round = 0; round < rounds; round++)
            {
                await RunTurnsAsync(sequential, perRound, record: true);
                await naiveApp.RunRoundAsync(null, record: true);
            }

            var compiledDuring = System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore;

            // The library's copies do reach Graph: every checkout of the two library apps, warm-ups included.
            var expected = variants.Where(v => v.Name.StartsWith("library,", StringComparison.Ordinal)).Sum(v => v.Checkouts);
            var deadline = Stopwatch.StartNew();
            while (graph.EventsReceived < expected && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }

            Console.WriteLine();
            PrintTable(variants);

            var off = variants[0].Sorted();
            Console.WriteLine();
            Console.WriteLine($"{warm.Describe(smoke)}; {compiledDuring:N0} methods compiled during the recorded rounds, naive rounds included.");
            Console.WriteLine($"Purchases received by the loopback Graph from the library apps: {graph.EventsReceived:N0} of {expected:N0}.");
            var ok = true;
            foreach (var v in variants.Skip(1).Take(2))
            {
                var s = v.Sorted();
                var added50 = HarnessCommand.Percentile(s, 50) - HarnessCommand.Percentile(off, 50);
                var added99 = HarnessCommand.Percentile(s, 99) - HarnessCommand.Percentile(off, 99);
                var naive = variants[3].Sorted();
                var times50 = HarnessCommand.Percentile(naive, 50) / HarnessCommand.Percentile(s, 50);
                var times99 = HarnessCommand.Percentile(naive, 99) / HarnessCommand.Percentile(s, 99);
                Console.WriteLine($"{HarnessCommand.ResultPrefix} latency {v.Name}: adds {added50:0.00} ms at p50, {added99:0.00} ms at p99 (target <=1 ms {(added99 <= 1 ? "met" : "NOT met")}); " +
                    $"naive/library {times50:0}x at p50, {times99:0}x at p99 (target >=100x {(Math.Min(times50, times99) >= 100 ? "met" : "NOT met")})");
            }

            if (graph.EventsReceived < expected)
            {
                Console.WriteLine("The library's purchases did not all reach the loopback Graph: the run is not valid.");
                ok = false;
            }

            Console.WriteLine();
            return ok;
        }
        finally
        {
            foreach (var variant in variants)
            {
                await variant.DisposeAsync();
            }

            foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(sqlitePath) + "*"))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Each app's recorded checkouts: count, p50, p99 and max, a row each.</summary>
    internal static void PrintTable(IEnumerable<Variant> apps)
    {
        Console.WriteLine("| App | Checkouts | p50 (ms) | p99 (ms) | max (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var app in apps)
        {
            var s = app.Sorted();
            Console.WriteLine($"| {app.Name} | {s.Length:N0} | {HarnessCommand.Percentile(s, 50):0.00} | {HarnessCommand.Percentile(s, 99):0.00} | {s[^1]:0.00} |");
        }
    }

    /// <summary>
    /// Apps taking turns checkout by checkout, <paramref name="turns"/> times (the first of each turn rotating), so that
    /// a pause of the machine falls on all of them alike.
    /// </summary>
    internal static async Task RunTurnsAsync(IReadOnlyList<Variant> apps, int turns, bool record)
    {
        for (var n = 0; n < turns; n++)
        {
            for (var i = 0; i < apps.Count; i++)
            {
                await apps[(i + n) % apps.Count].RunRoundAsync(1, record);
            }
        }
    }

    /// <summary>
    /// Turns not recorded until the JIT is done: with several apps in one process it compiles some 16,000 methods and
    /// recompiles the hot ones at higher tiers in the background; after 500 checkouts per app its thread still took
    /// 15-45% of the two cores for about ten seconds (perf, per thread), beside the checkouts being measured, and made
    /// their p99. Done: two spells of turns in a row during which it compiled fewer than 10 methods each
    /// (docs/performance.md, section 2).
    /// </summary>
    internal static async Task<JitWarmUp> WarmUntilJitQuietAsync(IReadOnlyList<Variant> apps)
    {
        var spells = 0;
        var quietInARow = 0;
        while (quietInARow < 2 && spells < MaxJitSpells)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            await RunTurnsAsync(apps, JitSpellTurns, record: false);
            spells++;
            quietInARow = System.Runtime.JitInfo.GetCompiledMethodCount() - compiled < QuietSpellMethods ? quietInARow + 1 : 0;
        }

        return new JitWarmUp(spells, quietInARow >= 2);
    }

    internal sealed record JitWarmUp(int Spells, bool Settled)
    {
        public string Describe(bool smoke) =>
            $"JIT warm-up: {Spells} spells of {JitSpellTurns} turns (at most {MaxJitSpells}), " +
            (smoke ? "none (smoke run)" : Settled ? "settled" : "NOT settled, the figures include the JIT's work");
    }

    [GeneratedRegex(""""name="__RequestVerificationToken" type="hidden" value="([^"]+)"|value="([^"]+)" name="__RequestVerificationToken"""")]
    private static partial Regex AntiforgeryField();

    internal sealed record Variant(string Name, string Path, int Clients, int PerClient, Dictionary<string, string> Settings, bool Naive = false, bool WarmUp = true)
        : IAsyncDisposable
    {
        private readonly List<double> _samples = [];
        private ShopFactory? _factory;
        private Browser[] _browsers = [];

        public int Checkouts { get; private set; }

        /// <summary>The app's services, once started.</summary>
        public IServiceProvider Services => _factory!.Services;

        public async Task StartAsync(string graphUrl)
        {
            var settings = new Dictionary<string, string>(Settings)
            {
                ["MetaConversions:PixelId"] = "1234567890",
                ["MetaConversions:AccessToken"] = "harness-token",
                ["MetaConversions:GraphApiBaseUrl"] = graphUrl,
            };
            _factory = new ShopFactory(settings, Naive, WarmUp);
            _factory.UseKestrel(); // the port from configuration (urls): UseKestrel(0) races the app's own bind (dotnet/aspnetcore #67714)
            _factory.StartServer();
            var address = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var baseUrl = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
            _browsers = new Browser[Clients];
            for (var i = 0; i < Clients; i++)
            {
                _browsers[i] = await Browser.OpenAsync(baseUrl, Path);
            }
        }

        /// <summary>Each client checks out <paramref name="count"/> times (its share of the round when null), one after the other.</summary>
        public async Task RunRoundAsync(int? count, bool record)
        {
            var results = await Task.WhenAll(_browsers.Select(b => b.CheckoutAsync(count ?? PerClient)));
            Checkouts += results.Sum(r => r.Length);
            if (record)
            {
                foreach (var r in results)
                {
                    _samples.AddRange(r);
                }
            }
        }

        public double[] Sorted()
        {
            var sorted = _samples.ToArray();
            Array.Sort(sorted);
            return sorted;
        }

        /// <summary>The samples recorded so far, sorted; the next ones start afresh.</summary>
        public double[] TakeSorted()
        {
            var sorted = Sorted();
            _samples.Clear();
            return sorted;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var browser in _browsers)
            {
                browser.Dispose();
            }

            if (_factory is not null)
            {
                await _factory.DisposeAsync();
            }
        }
    }

    /// <summary>A shopper: a cookie jar, the antiforgery token of <c>GET /checkout</c>, then checkouts posted with it.</summary>
    internal sealed class Browser(HttpClient client, string path, Dictionary<string, string> form) : IDisposable
    {
        private int _order;

        public static async Task<Browser> OpenAsync(Uri baseUrl, string path)
        {
            // A shopper who has accepted the sample's cookie banner (CookiePolicy's consent cookie), as most who buy have.
            var cookies = new CookieContainer();
            cookies.Add(baseUrl, new Cookie(".AspNet.Consent", "yes"));
            var client = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = baseUrl };
            client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
            client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
            client.DefaultRequestHeaders.Referrer = new Uri(baseUrl, "/checkout?productId=2");
            var page = await client.GetStringAsync("/checkout?productId=2");
            var match = AntiforgeryField().Match(page);
            var form = new Dictionary<string, string>
            {
                ["productId"] = "2",
                ["email"] = " Jane.Doe@Example.com ",
                ["phone"] = "+1 (650) 555-0123",
                ["firstName"] = "Jane",
                ["lastName"] = "Doe",
                ["city"] = "Menlo Park",
                ["state"] = "CA",
                ["zip"] = "94025",
                ["country"] = "US",
            };
            if (match.Success)
            {
                form["__RequestVerificationToken"] = match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
            }

            return new Browser(client, path, form);
        }

        public async Task<double[]> CheckoutAsync(int count)
        {
            var samples = new double[count];
            for (var i = 0; i < count; i++)
            {
                form["email"] = $" Jane.Doe+{++_order}@Example.com ";
                using var content = new FormUrlEncodedContent(form);
                var start = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync(path, content);
                var body = await response.Content.ReadAsStringAsync();
                samples[i] = HarnessCommand.Milliseconds(start, Stopwatch.GetTimestamp());
                if (response.StatusCode != HttpStatusCode.OK || !body.Contains("Thank you for your order", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}, not the confirmation page.");
                }
            }

            return samples;
        }

        public void Dispose() => client.Dispose();
    }

    /// <summary>The sample's own Program on Kestrel, configured as MetaConversions__* variables would; plus the naive controller.</summary>
    /// <param name="settings">Configuration.</param>
    /// <param name="naive">Whether the naive controller is added.</param>
    /// <param name="warmUp">False: without the library's start-up warm-up, so its code is compiled inside the first requests (the path harness).</param>
    internal sealed class ShopFactory(Dictionary<string, string> settings, bool naive, bool warmUp = true) : WebApplicationFactory<global::Program>
    {
        static ShopFactory()
        {
            // The factory looks for its manifest in the current directory (a test runner's is the output folder);
            // point it at the sample from the manifest in ours, wherever `dotnet run` was started.
            var manifest = JsonSerializer.Deserialize<Dictionary<string, string>>(
                File.ReadAllText(System.IO.Path.Combine(AppContext.BaseDirectory, "MvcTestingAppManifest.json")))!;
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SHOP", manifest[typeof(global::Program).Assembly.FullName!]);
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.UseSetting(WebHostDefaults.ServerUrlsKey, "http://127.0.0.1:0");
            builder.ConfigureLogging(logging => logging.ClearProviders());
            if (!warmUp)
            {
                builder.ConfigureServices(services =>
                {
                    var descriptor = services.Single(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)
                        && d.ImplementationType == typeof(CapiMiddleware.Hosting.LibraryWarmUp));
                    services.Remove(descriptor);
                });
            }

            if (naive)
            {
                builder.ConfigureServices(services =>
                {
                    services.AddControllersWithViews().AddApplicationPart(typeof(NaiveCheckoutController).Assembly);
                    services.AddHttpClient(NaiveCheckoutController.HttpClientName);
                });
            }
        }
    }
}
