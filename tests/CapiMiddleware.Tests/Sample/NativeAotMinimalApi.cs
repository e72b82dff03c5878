using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Crash;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Sample;

/// <summary>
/// samples/MinimalApi as a site ships it with Native AOT: published once per test class (<c>dotnet publish -c Release
/// -r linux-x64</c>, the sample's own PublishAot) into <c>artifacts/aot/</c>, then run as that native program, configured
/// through <c>MetaConversions__*</c> variables and sending to a fake Graph API. The publish is part of the test, so a
/// change that breaks it (a trim or AOT warning is an error there too) fails here; it takes a minute or two of one core.
/// </summary>
/// <remarks>
/// The build has its own <c>--artifacts-path</c>, so it shares no <c>bin/</c> or <c>obj/</c> with the solution's build
/// and the test run's assemblies. Without clang, <see cref="Unavailable"/> says so and nothing is published.
/// </remarks>
public sealed class NativeAotMinimalApi : IAsyncLifetime
{
    public const string PixelId = "1234567890";

    /// <summary>A hung publish fails the test instead of the CI run; a normal one takes a minute or two.</summary>
    private static readonly TimeSpan PublishLimit = TimeSpan.FromMinutes(15);

    private SampleProcess? _process;

    /// <summary>Why nothing could be published (no native toolchain), or null.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>What <c>dotnet publish</c> printed.</summary>
    public string PublishOutput { get; private set; } = "";

    /// <summary>Whether the publish succeeded and the native program answers.</summary>
    public bool Running => _process is not null;

    public FakeGraphApiServer Graph { get; private set; } = null!;

    public Uri BaseUrl => _process?.BaseUrl ?? throw new InvalidOperationException("The native sample is not running.");

    /// <summary>Where the publish goes (git ignores <c>artifacts/</c>).</summary>
    public static string Folder => Path.Combine(NodeProcess.RepositoryRoot, "artifacts", "aot");

    /// <summary>The native program.</summary>
    public static string Executable => Path.Combine(Folder, "MinimalApi", "MinimalApi");

    public async Task InitializeAsync()
    {
        if (FindOnPath("clang") is null)
        {
            Unavailable = "No clang on PATH: Native AOT links the sample with it. Install Debian's toolchain with "
                + "`sudo apt-get install clang zlib1g-dev` to run the AOT sample's test.";
            return;
        }

        Graph = await FakeGraphApiServer.StartAsync();
        var (exitCode, output) = await PublishAsync();
        PublishOutput = output;
        if (exitCode != 0 || !File.Exists(Executable))
        {
            return; // the test fails with the output
        }

        _process = await SampleProcess.StartExecutableAsync(Executable, new Dictionary<string, string>
        {
            ["MetaConversions__PixelId"] = PixelId,
            ["MetaConversions__AccessToken"] = Graph.Options.ExpectedAccessToken,
            ["MetaConversions__GraphApiBaseUrl"] = Graph.BaseUrl.ToString(),
            ["MetaConversions__FlushInterval"] = "00:00:00.050",
        });
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (Graph is not null)
        {
            await Graph.DisposeAsync();
        }
    }

    /// <summary>
    /// Skips the calling test without the native toolchain (fails it on CI, <see cref="Requires"/>); fails it with the
    /// publish's output when the publish failed or printed a warning.
    /// </summary>
    public void Require()
    {
        Requires.NativeToolchain(this);
        Assert.True(Running, $"The Native AOT publish of samples/MinimalApi failed:\n{PublishOutput}");
        var warnings = PublishOutput.Split('\n').Where(l => l.Contains(": warning ", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 0, "The Native AOT publish warned:\n" + string.Join('\n', warnings));
    }

    /// <summary>Waits for the one server event with this ID to reach the fake Graph API for the pixel, and returns it.</summary>
    public async Task<JsonElement> WaitForServerEventAsync(string eventId)
    {
        bool Matches(JsonElement e) => e.GetProperty("event_id").GetString() == eventId;
        IEnumerable<JsonElement> Delivered() => Graph.Requests.Where(r => r.PixelId == PixelId && r.StatusCode == 200).SelectMany(r => r.Events);
        await Eventually.TrueAsync(() => Delivered().Any(Matches), $"event {eventId} reaches the fake Graph API");
        return Assert.Single(Delivered(), Matches);
    }

    private static async Task<(int ExitCode, string Output)> PublishAsync()
    {
        var project = Path.Combine(NodeProcess.RepositoryRoot, "samples", "MinimalApi", "MinimalApi.csproj");
        var start = new ProcessStartInfo("dotnet",
        [
            "publish", project, "-c", "Release", "-r", "linux-x64",
            "--artifacts-path", Path.Combine(Folder, "build"), "-o", Path.GetDirectoryName(Executable)!,
            // No build servers: the test leaves no compiler or MSBuild node running behind it.
            "--disable-build-servers", "-nologo", "-tl:off",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = NodeProcess.RepositoryRoot,
        };

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var limit = new CancellationTokenSource(PublishLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lock (output)
            {
                output.AppendLine($"(stopped: no end after {PublishLimit.TotalMinutes} minutes)");
            }
        }

        process.WaitForExit(); // the end of the redirected output
        lock (output)
        {
            output.AppendLine($"(dotnet publish: exit code {process.ExitCode} after {clock.Elapsed.TotalSeconds:0} s)");
            return (process.ExitCode, output.ToString());
        }
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);
}
