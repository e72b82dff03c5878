using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using CapiMiddleware.FakeGraph;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// The first checkout after a deploy (<c>-- first</c>): each sample started fresh as a process of its own, as a deploy
/// starts it, with the library on and off (<c>MetaConversions:Enabled=false</c>: the same app, the same requests, the
/// bare app's shape), in each build a site can ship: the JIT (<c>dotnet build</c>), ReadyToRun (<c>dotnet publish
/// -p:PublishReadyToRun=true</c>) and, for the minimal-API sample, Native AOT. Per start: the time until the port
/// accepts a connection, the first page (the shop's <c>GET /checkout</c>), the first checkout, and the p99 of the
/// hundred checkouts after it. The starts alternate library on and off, flavour by flavour, so the machine's noise
/// falls on both alike; each figure is the median over the starts. Every event goes to a loopback fake Graph.
/// </summary>
internal static class FirstCheckout
{
    private const string UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
    private const int CheckoutsAfterTheFirst = 100;

    public static async Task<bool> RunAsync(bool smoke)
    {
        var starts = smoke ? 1 : 7;
        var work = Directory.CreateTempSubdirectory("capi-first-").FullName;
        try
        {
            var flavours = await BuildAsync(work, smoke);
            Console.WriteLine($"## The first checkout after a start: {starts} fresh starts per flavour, library on and off alternating");
            await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true });
            var results = flavours.ToDictionary(f => f, _ => (On: new List<Start>(), Off: new List<Start>()));
            for (var round = 0; round < starts; round++)
            {
                foreach (var flavour in flavours)
                {
                    // Off first in even rounds, on first in odd ones: neither always runs on a machine just warmed by the other.
                    foreach (var on in round % 2 == 0 ? new[] { false, true } : [true, false])
                    {
                        var start = await RunOnceAsync(flavour, on, graph);
                        (on ? results[flavour].On : results[flavour].Off).Add(start);
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine("| Sample, build | Library | Time to listen | First page | First checkout | p99 of the next 100 |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|");
            var met = true;
            foreach (var flavour in flavours)
            {
                var (on, off) = (Summary.Of(results[flavour].On), Summary.Of(results[flavour].Off));
                Console.WriteLine($"| {flavour.Name} | off | {off.Listen:0} ms | {off.FirstPage:0.0} ms | {off.FirstCheckout:0.0} ms | {off.P99:0.00} ms |");
                Console.WriteLine($"| {flavour.Name} | on | {on.Listen:0} ms | {on.FirstPage:0.0} ms | {on.FirstCheckout:0.0} ms | {on.P99:0.00} ms |");
                var firstAdded = on.FirstCheckout - off.FirstCheckout;
                var p99Added = on.P99 - off.P99;
                var ok = firstAdded <= 5 && p99Added <= 2;
                met &= ok;
                Console.WriteLine($"{HarnessCommand.ResultPrefix} first {flavour.Name}: the library adds {on.Listen - off.Listen:0} ms to listen, " +
                    $"{on.FirstPage - off.FirstPage:0.0} ms to the first page, {firstAdded:0.0} ms to the first checkout (target <=5 ms), " +
                    $"{p99Added:0.00} ms to the next 100's p99 (target <=2 ms) {(ok ? "met" : "NOT met")}");
            }

            Console.WriteLine($"{HarnessCommand.ResultPrefix} first: events at the fake Graph {graph.EventsReceived:N0}, every checkout of every start with the library on");
            return met || smoke;
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // a program still closing; the temp folder is the system's to clean
            }
        }
    }

    /// <summary>The builds to start: what the machine can make (Native AOT needs clang); the smoke run only the shop on the JIT.</summary>
    private static async Task<List<Flavour>> BuildAsync(string work, bool smoke)
    {
        var root = RepositoryRoot();
        var shop = Path.Combine(root, "samples", "Shop", "Shop.csproj");
        var minimal = Path.Combine(root, "samples", "MinimalApi", "MinimalApi.csproj");
        var flavours = new List<Flavour>
        {
            // Built with the harness (the benchmarks reference the shop), in Release.
            new("shop (MVC), JIT", Dotnet(Path.Combine(root, "samples", "Shop", "bin", "Release", "net10.0", "Shop.dll")), Shop: true),
        };
        if (smoke)
        {
            return flavours;
        }

        var rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
        await PublishAsync(shop, Path.Combine(work, "shop-r2r"), "-r", rid, "--self-contained", "false", "-p:PublishReadyToRun=true");
        flavours.Add(new("shop (MVC), ReadyToRun", Dotnet(Path.Combine(work, "shop-r2r", "Shop.dll")), Shop: true));

        await PublishAsync(minimal, Path.Combine(work, "minimal-jit"), "--no-self-contained", "-p:PublishAot=false");
        flavours.Add(new("minimal API, JIT", Dotnet(Path.Combine(work, "minimal-jit", "MinimalApi.dll")), Shop: false));
        await PublishAsync(minimal, Path.Combine(work, "minimal-r2r"), "-r", rid, "--self-contained", "false", "-p:PublishAot=false", "-p:PublishReadyToRun=true");
        flavours.Add(new("minimal API, ReadyToRun", Dotnet(Path.Combine(work, "minimal-r2r", "MinimalApi.dll")), Shop: false));
        if (File.Exists("/usr/bin/clang"))
        {
            await PublishAsync(minimal, Path.Combine(work, "minimal-aot"), "-r", rid, "-p:PublishAot=true");
            flavours.Add(new("minimal API, Native AOT", [Path.Combine(work, "minimal-aot", "MinimalApi")], Shop: false));
        }
        else
        {
            Console.WriteLine("Native AOT skipped: clang is missing (apt-get install -y clang zlib1g-dev).");
        }

        return flavours;

        static string[] Dotnet(string dll) => ["dotnet", dll];
    }

    /// <summary>One fresh start: time to listen, the first page, the first checkout, the next hundred; then the process is stopped.</summary>
    private static async Task<Start> RunOnceAsync(Flavour flavour, bool libraryOn, FakeGraphApiServer graph)
    {
        var port = HarnessCommand.FreePort();
        var info = new ProcessStartInfo(flavour.Command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(flavour.Command[^1])!,
        };
        foreach (var arg in flavour.Command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["MetaConversions__Enabled"] = libraryOn ? "true" : "false";
        info.Environment["MetaConversions__PixelId"] = "1234567890";
        info.Environment["MetaConversions__AccessToken"] = graph.Options.ExpectedAccessToken;
        info.Environment["MetaConversions__GraphApiBaseUrl"] = graph.BaseUrl.ToString();

        var eventsBefore = graph.EventsReceived;
        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var listen = await WaitUntilListeningAsync(process, port, started);
            var baseUrl = new Uri($"http://127.0.0.1:{port}");
            double firstPage, firstCheckout;
            double[] next;
            if (flavour.Shop)
            {
                var pageStart = Stopwatch.GetTimestamp();
                using var browser = await CheckoutLatency.Browser.OpenAsync(baseUrl, "/checkout");
                firstPage = HarnessCommand.Milliseconds(pageStart, Stopwatch.GetTimestamp());
                firstCheckout = (await browser.CheckoutAsync(1))[0];
                next = await browser.CheckoutAsync(CheckoutsAfterTheFirst);
            }
            else
            {
                using var client = new HttpClient { BaseAddress = baseUrl };
                client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
                client.DefaultRequestHeaders.Referrer = new Uri(baseUrl, "/");
                var pageStart = Stopwatch.GetTimestamp();
                (await client.GetAsync("/")).EnsureSuccessStatusCode();
                firstPage = HarnessCommand.Milliseconds(pageStart, Stopwatch.GetTimestamp());
                firstCheckout = await SignUpAsync(client, 0);
                next = new double[CheckoutsAfterTheFirst];
                for (var i = 0; i < next.Length; i++)
                {
                    next[i] = await SignUpAsync(client, i + 1);
                }
            }

            // The library on must have sent the checkouts (after the timings: its sender lingers FlushInterval first),
            // and off must have sent nothing: otherwise the comparison is not what it says.
            var expected = libraryOn ? 1 + CheckoutsAfterTheFirst : 0;
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
            while (graph.EventsReceived - eventsBefore < expected && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(20);
            }

            if (libraryOn ? graph.EventsReceived - eventsBefore < expected : graph.EventsReceived != eventsBefore)
            {
                throw new InvalidOperationException($"{flavour.Name}, library {(libraryOn ? "on" : "off")}: the fake Graph received {graph.EventsReceived - eventsBefore} events, not {expected}.");
            }

            Array.Sort(next);
            return new Start(listen, firstPage, firstCheckout, HarnessCommand.Percentile(next, 99));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>The minimal-API sample's conversion: a newsletter sign-up, reported as a Lead.</summary>
    private static async Task<double> SignUpAsync(HttpClient client, int visitor)
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await client.PostAsJsonAsync("/api/newsletter", new { email = $"jane.doe+{visitor}@example.com" });
        await response.Content.ReadAsStringAsync();
        var elapsed = HarnessCommand.Milliseconds(start, Stopwatch.GetTimestamp());
        return response.StatusCode == HttpStatusCode.OK
            ? elapsed
            : throw new InvalidOperationException($"POST /api/newsletter answered {(int)response.StatusCode}.");
    }

    private static async Task<double> WaitUntilListeningAsync(Process process, int port, long started)
    {
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The sample exited at start-up with code {process.ExitCode}.");
            }

            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, port);
                return HarnessCommand.Milliseconds(started, Stopwatch.GetTimestamp());
            }
            catch (SocketException)
            {
                await Task.Delay(1);
            }
        }

        throw new TimeoutException("The sample did not listen within 60 seconds.");
    }

    private static async Task PublishAsync(string project, string output, params string[] options)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["publish", project, "-c", "Release", "-o", output, "--nologo", .. options])
        {
            info.ArgumentList.Add(arg);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {Path.GetFileName(project)} {string.Join(' ', options)} failed:\n{await stdout}{await stderr}");
        }

        Console.WriteLine($"Published {Path.GetFileNameWithoutExtension(project)} ({string.Join(' ', options)}) in {watch.Elapsed.TotalSeconds:0} s.");
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "CapiMiddleware.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("Run the harness from the repository's build output.");
    }

    private sealed record Flavour(string Name, string[] Command, bool Shop);

    private sealed record Start(double Listen, double FirstPage, double FirstCheckout, double P99);

    private sealed record Summary(double Listen, double FirstPage, double FirstCheckout, double P99)
    {
        public static Summary Of(List<Start> starts) => new(
            Median(starts.Select(s => s.Listen)), Median(starts.Select(s => s.FirstPage)),
            Median(starts.Select(s => s.FirstCheckout)), Median(starts.Select(s => s.P99)));

        private static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? double.NaN : HarnessCommand.Percentile(sorted, 50);
        }
    }
}
