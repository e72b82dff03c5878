using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// The load harnesses, beside BenchmarkDotNet's micro-benchmarks:
/// <c>dotnet run -c Release --project tests/CapiMiddleware.Benchmarks -- harness</c> runs them all, each in a process of
/// its own, and prints the tables of docs/performance.md; <c>-- load</c>, <c>-- latency</c>, <c>-- outbox</c>, <c>-- pipeline</c>,
/// <c>-- throughput</c>, <c>-- memory</c>, <c>-- soak</c> (ten minutes; see <see cref="Soak"/>), <c>-- path</c> (the types one
/// Purchase passes through: <see cref="PurchasePath"/>), <c>-- farm</c> (node processes on one Redis: <see cref="Farm"/>) or
/// <c>-- first</c> (the first checkout after a fresh start, JIT, ReadyToRun and Native AOT: <see cref="FirstCheckout"/>)
/// runs one.
/// <c>--smoke</c> makes each a run of a second or two that only proves the harness works (./test.sh); its figures mean
/// nothing.
/// </summary>
internal static class HarnessCommand
{
    private static readonly string[] Modes = ["harness", "load", "latency", "outbox", "pipeline", "throughput", "memory", "soak", "path", "farm", "first"];

    /// <summary>What starts each line that states a figure against its target; a smoke run's says it means nothing.</summary>
    public static string ResultPrefix { get; private set; } = "RESULT";

    public static bool IsHarness(string arg) => Modes.Contains(arg) || arg == FarmNode.Mode;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args[0] == FarmNode.Mode)
        {
            return await FarmNode.RunAsync(args); // its standard output is the farm's protocol: no heading
        }

        var smoke = args.Contains("--smoke");
        ResultPrefix = smoke ? "RESULT (smoke run, meaningless)" : "RESULT";
        var mode = args[0];
        if (mode == "harness")
        {
            return await RunEachInItsOwnProcessAsync(smoke);
        }

        Console.WriteLine($"# {Machine()}{(smoke ? " — SMOKE RUN, figures meaningless" : string.Empty)}");
        Console.WriteLine();

        var passed = mode switch
        {
            "load" => await MiddlewareLoad.RunAsync(smoke),
            "latency" => await CheckoutLatency.RunAsync(smoke),
            "outbox" => await OutboxLatency.RunAsync(smoke),
            "pipeline" => await PipelineCost.RunAsync(smoke),
            "throughput" => await Throughput.RunAsync(smoke),
            "memory" => await QueueMemory.RunAsync(smoke),
            "soak" => await Soak.RunAsync(args, smoke),
            "path" => await PurchasePath.RunAsync(smoke),
            "farm" => await Farm.RunAsync(smoke),
            "first" => await FirstCheckout.RunAsync(smoke),
            _ => throw new ArgumentOutOfRangeException(nameof(args), mode, "Not a harness."),
        };
        return passed ? 0 : 1;
    }

    /// <summary>
    /// Each harness in a process of its own, one after the other: what one leaves behind (the JIT's profile-guided code
    /// compiled for another workload, a larger heap) slowed the next by a quarter when they shared one (docs/performance.md).
    /// </summary>
    private static async Task<int> RunEachInItsOwnProcessAsync(bool smoke)
    {
        var failed = false;
        foreach (var mode in Modes.Skip(1))
        {
            var start = OwnProcess(mode);
            if (smoke)
            {
                start.ArgumentList.Add("--smoke");
            }

            using var child = Process.Start(start)!;
            await child.WaitForExitAsync();
            failed |= child.ExitCode != 0;
        }

        return failed ? 1 : 0;
    }

    /// <summary>This program again, as a child process with <paramref name="args"/>, however it was started.</summary>
    public static ProcessStartInfo OwnProcess(params IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(HarnessCommand).Assembly.Location); // run as `dotnet X.dll`
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    public static string Machine() =>
        $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, " +
        $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, load average {LoadAverage()}";

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>The value at <paramref name="percentile"/> (0–100) of sorted samples, nearest rank.</summary>
    public static double Percentile(double[] sorted, double percentile)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>A loopback port free now, for a process the harness starts.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static double Milliseconds(long startTimestamp, long endTimestamp) =>
        (endTimestamp - startTimestamp) * 1000.0 / Stopwatch.Frequency;
}
