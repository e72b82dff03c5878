using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Reflection;
using System.Runtime.CompilerServices;
using CapiMiddleware.FakeGraph;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// <c>-- path</c>: which of the library's types one Purchase passes through, from the sample shop's <c>POST /checkout</c>
/// to the batch Graph acknowledges, and how many constructor dependencies each of those that dependency injection builds
/// takes (docs/architecture.md). Measured, not listed by hand: with tiered compilation off, the runtime compiles each
/// method once, the first time it runs, and says so (the JIT's <c>MethodLoadVerbose</c> events, read in process by an
/// <see cref="EventListener"/>). <c>GET /checkout</c> runs first (the middleware, MVC, the views and the tag helper, no
/// conversion), so what is compiled during the Purchase is what only a conversion runs: its types are the ones counted
/// (a nested type, such as an async state machine or a lambda's closure, counts as the type that declares it).
/// </summary>
internal static class PurchasePath
{
    private const string LibraryNamespace = "CapiMiddleware.";

    public static async Task<bool> RunAsync(bool smoke)
    {
        if (Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0")
        {
            // Tier-0 code recompiled at tier 1 during the Purchase would count types the Purchase does not need.
            return await RunAgainWithoutTieringAsync(smoke);
        }

        Console.WriteLine("## The types one Purchase passes through (sample shop, memory outbox, Graph on loopback)");
        using var jit = new JitListener();
        await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true });
        // Without the start-up warm-up, which compiles most of the Purchase's path beforehand: the JIT's events in the
        // window then name every type the Purchase runs.
        var shop = new CheckoutLatency.Variant("library, memory outbox", "/checkout", 1, 1, [], WarmUp: false);
        try
        {
            await shop.StartAsync(graph.BaseUrl.GetLeftPart(UriPartial.Authority)); // GET /checkout: everything a page needs, no conversion
            var services = shop.Services;
            var store = services.GetRequiredService<IOutboxStore>();

            // The window is marked in the JIT's own stream: a method compiled just before the Purchase and one just after
            // it. Their events' times bound it, and the end marker's arrival says the runtime has handed over everything
            // compiled before it (the start-up's events reach the listener late, and fall before the start marker).
            StartOfPurchase();
            await shop.RunRoundAsync(1, record: false);
            if (!await UntilAsync(async () => graph.EventsReceived >= 1 && await store.CountAsync(default) == 0))
            {
                Console.WriteLine("The Purchase was not acknowledged by the loopback Graph: the run is not valid.");
                return false;
            }

            EndOfPurchase();
            if (!await UntilAsync(() => Task.FromResult(jit.Saw(nameof(EndOfPurchase)))))
            {
                Console.WriteLine("The runtime did not report the end marker's compilation: the run is not valid.");
                return false;
            }

            var start = jit.TimeOf(nameof(StartOfPurchase));
            var end = jit.TimeOf(nameof(EndOfPurchase));
            var types = jit.TypesBetween(start, end)
                .Where(t => t.StartsWith(LibraryNamespace, StringComparison.Ordinal)
                    && !t.StartsWith("CapiMiddleware.Benchmarks", StringComparison.Ordinal)
                    && !t.StartsWith("CapiMiddleware.FakeGraph", StringComparison.Ordinal)) // the harness's own
                .Order(StringComparer.Ordinal)
                .ToArray();
            var library = typeof(MetaConversionsOptions).Assembly;
            Console.WriteLine();
            Console.WriteLine("| Type | Methods first run | Constructor dependencies (built by DI) |");
            Console.WriteLine("|---|---:|---:|");
            var dependencies = new List<int>();
            foreach (var name in types)
            {
                var type = library.GetType(name);
                var deps = type is not null && IsBuiltByContainer(type, services)
                    ? type.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Max(c => c.GetParameters().Length)
                    : (int?)null;
                if (deps is { } d)
                {
                    dependencies.Add(d);
                }

                Console.WriteLine($"| {name[LibraryNamespace.Length..]} | {jit.MethodsOf(name, start, end)} | {(deps is { } n ? n.ToString() : "")} |");
            }

            Console.WriteLine();
            Console.WriteLine($"{HarnessCommand.ResultPrefix} path: one Purchase runs code of {types.Length} library types; " +
                $"{dependencies.Count} of them built by dependency injection, with {dependencies.Sum()} constructor dependencies in all " +
                $"(at most {(dependencies.Count > 0 ? dependencies.Max() : 0)} for one type)");
            Console.WriteLine();
            return types.Length > 0;
        }
        finally
        {
            await shop.DisposeAsync();
        }
    }

    /// <summary>Whether the app's container holds an instance of <paramref name="type"/>: as itself, as one of its interfaces, or as a hosted service.</summary>
    private static bool IsBuiltByContainer(Type type, IServiceProvider services)
    {
        if (type.IsAbstract || type.IsInterface || type.ContainsGenericParameters)
        {
            return false;
        }

        return services.GetService(type) is not null
            || type.GetInterfaces().Any(i => !i.ContainsGenericParameters && services.GetService(i)?.GetType() == type)
            || services.GetServices<IHostedService>().Any(s => s.GetType() == type);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StartOfPurchase()
    {
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EndOfPurchase()
    {
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (true) or 30 seconds have passed (false).</summary>
    private static async Task<bool> UntilAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    private static async Task<bool> RunAgainWithoutTieringAsync(bool smoke)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(PurchasePath).Assembly.Location);
        }

        start.ArgumentList.Add("path");
        if (smoke)
        {
            start.ArgumentList.Add("--smoke");
        }

        start.Environment["DOTNET_TieredCompilation"] = "0";
        using var child = Process.Start(start)!;
        await child.WaitForExitAsync();
        return child.ExitCode == 0;
    }

    /// <summary>The methods the JIT compiles, with their type and time, from the runtime's own event source.</summary>
    private sealed class JitListener : EventListener
    {
        private const EventKeywords JitKeyword = (EventKeywords)0x10;

        private readonly ConcurrentQueue<(DateTime Time, string Type, string Method)> _compiled = new();

        public IEnumerable<string> TypesBetween(DateTime start, DateTime end) =>
            _compiled.Where(c => c.Time >= start && c.Time <= end).Select(c => c.Type).Distinct();

        /// <summary>Whether a method of this name (one of this harness's markers) has been reported compiled.</summary>
        public bool Saw(string method) => _compiled.Any(c => c.Method == method);

        /// <summary>When the marker <paramref name="method"/> was compiled, by the runtime's clock.</summary>
        public DateTime TimeOf(string method) => _compiled.First(c => c.Method == method).Time;

        public int MethodsOf(string type, DateTime start, DateTime end) =>
            _compiled.Count(c => c.Time >= start && c.Time <= end && c.Type == type);

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, JitKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName?.StartsWith("MethodLoadVerbose", StringComparison.Ordinal) != true || eventData.PayloadNames is not { } names)
            {
                return;
            }

            var type = eventData.Payload![names.IndexOf("MethodNamespace")] as string ?? "";
            var method = eventData.Payload[names.IndexOf("MethodName")] as string ?? "";
            _compiled.Enqueue((eventData.TimeStamp.ToUniversalTime(), DeclaringType(type), method));
        }

        /// <summary><c>A.B+&lt;M&gt;d__3</c> and <c>A.B`1[...]</c> as <c>A.B</c>: a nested or generic type counts as the type that declares it.</summary>
        private static string DeclaringType(string name)
        {
            var end = name.IndexOfAny(['+', '`', '[']);
            return end < 0 ? name : name[..end];
        }
    }
}
