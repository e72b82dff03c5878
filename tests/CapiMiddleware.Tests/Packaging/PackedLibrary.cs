using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Packaging;

/// <summary>
/// The library packed once per test class, as a release is packed: <c>dotnet pack -c Release</c> with
/// <c>ContinuousIntegrationBuild</c>, into a folder of its own under artifacts/ (ignored by git) so the projects' bin/ and
/// obj/ stay as they are. Inside the repository, as obj/ is, so the generated sources get /_/ paths in the PDB too.
/// </summary>
public sealed class PackedLibrary : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(NodeProcess.RepositoryRoot, "artifacts", "package-tests-" + Guid.NewGuid().ToString("N"));

    public static string LibraryProject { get; } = Path.Combine(NodeProcess.RepositoryRoot, "src", "CapiMiddleware", "CapiMiddleware.csproj");

    public string PackageFile { get; private set; } = "";

    public string SymbolPackageFile { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var output = Path.Combine(_folder, "out");
        await RunDotnetAsync("pack", LibraryProject, "-c", "Release", "--nologo", "--disable-build-servers",
            "--artifacts-path", Path.Combine(_folder, "artifacts"), "-o", output, "-p:ContinuousIntegrationBuild=true");
        PackageFile = Assert.Single(Directory.GetFiles(output, "*.nupkg"));
        SymbolPackageFile = Assert.Single(Directory.GetFiles(output, "*.snupkg"));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    public static ZipArchive Open(string package) => ZipFile.OpenRead(package);

    /// <summary>Runs <c>dotnet</c> in the repository root, outside the MSBuild of the test run, and returns its output.</summary>
    public static async Task<string> RunDotnetAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = NodeProcess.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // `dotnet test` leaves MSBuild's own variables in the environment; a nested build must not inherit them.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{text}");
        return text;
    }

    /// <summary>Runs <c>git</c> in the repository root; <see langword="null"/> when there is no git or no repository.</summary>
    public static async Task<string?> GitAsync(params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments)
            {
                WorkingDirectory = NodeProcess.RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
            };
            using var process = Process.Start(start)!;
            var stdout = await process.StandardOutput.ReadToEndAsync();
            await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return process.ExitCode == 0 ? stdout.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
