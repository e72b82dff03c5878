using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Crash;

/// <summary>
/// A sample as a separate OS process (the shop as <c>dotnet Shop.dll</c>, or a published native program), configured
/// only through <c>MetaConversions__*</c> environment variables as a user would, and killable with SIGKILL.
/// </summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;

    private SampleProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>The sample shop, built with the tests.</summary>
    public static Task<SampleProcess> StartAsync(IReadOnlyDictionary<string, string> environment) =>
        StartAsync("dotnet", [ShopDll], Path.GetDirectoryName(ShopDll)!, environment);

    /// <summary>A program of its own (a Native AOT publish), run in its folder, which is its content root.</summary>
    public static Task<SampleProcess> StartExecutableAsync(string path, IReadOnlyDictionary<string, string> environment) =>
        StartAsync(path, [], Path.GetDirectoryName(path)!, environment);

    private static async Task<SampleProcess> StartAsync(
        string fileName, IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(fileName, [.. arguments, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var sample = new SampleProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var client = new HttpClient { BaseAddress = sample.BaseUrl, Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.TrueAsync(async () =>
        {
            Assert.False(process.HasExited, "the sample exited at start-up");
            try
            {
                return (await client.GetAsync("/")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, "the sample process answers", TimeSpan.FromSeconds(60));
        return sample;
    }

    /// <summary>kill -9: no shutdown, no drain, nothing flushed by the process.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true); // SIGKILL on Linux
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string ShopDll => SampleDll("Shop");

    /// <summary>The built program of <c>samples/{name}</c>, in the configuration the tests were built in.</summary>
    public static string SampleDll(string name)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(NodeProcess.RepositoryRoot, "samples", name, "bin", configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first.");
        return path;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
