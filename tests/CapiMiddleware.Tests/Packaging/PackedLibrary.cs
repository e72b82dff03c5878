using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Packaging;

/// <summary>
/// The packages packed once per test class, as a release is packed: <c>dotnet pack -c Release</c> with
/// <c>ContinuousIntegrationBuild</c> of the library, its two stores and its store tests, into a folder of its own under
/// artifacts/ (ignored by git) so the projects' bin/ and obj/ stay as they are. Inside the repository, as obj/ is, so the
/// generated sources get /_/ paths in the PDB too.
/// </summary>
public sealed class PackedLibrary : IAsyncLifetime
{
    /// <summary>Every package the repository makes: the projects under src/.</summary>
    public static readonly string[] PackageIds = ["CapiMiddleware", "CapiMiddleware.Outbox.Redis", "CapiMiddleware.Outbox.Sqlite", "CapiMiddleware.Outbox.Testing"];

    private readonly string _folder = Path.Combine(NodeProcess.RepositoryRoot, "artifacts", "package-tests-" + Guid.NewGuid().ToString("N"));

    public static string LibraryProject { get; } = ProjectOf("CapiMiddleware");

    /// <summary>The folder that holds every .nupkg and .snupkg: a local package source.</summary>
    public string PackageFolder { get; private set; } = "";

    /// <summary>The library's package.</summary>
    public string PackageFile => PackageFileOf("CapiMiddleware");

    public string SymbolPackageFile { get; private set; } = "";

    public static string ProjectOf(string packageId) => Path.Combine(NodeProcess.RepositoryRoot, "src", packageId, packageId + ".csproj");

    public string PackageFileOf(string packageId) => FileOf(packageId, ".nupkg");

    private string FileOf(string packageId, string extension) =>
        Assert.Single(Directory.GetFiles(PackageFolder, "*" + extension), f => Regex.IsMatch(Path.GetFileName(f), $@"^{Regex.Escape(packageId)}\.\d"));

    public async Task InitializeAsync()
    {
        PackageFolder = Path.Combine(_folder, "out");
        // One after the other: the first builds the library, the others find it built (the same global properties).
        foreach (var id in PackageIds)
        {
            await RunDotnetAsync("pack", ProjectOf(id), "-c", "Release", "--nologo", "--disable-build-servers",
                "--artifacts-path", Path.Combine(_folder, "artifacts"), "-o", PackageFolder, "-p:ContinuousIntegrationBuild=true");
        }

        Assert.Equal(PackageIds.Length, Directory.GetFiles(PackageFolder, "*.nupkg").Length);
        SymbolPackageFile = FileOf("CapiMiddleware", ".snupkg");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    public static ZipArchive Open(string package) => ZipFile.OpenRead(package);

    /// <summary>Runs <c>dotnet</c> in the repository root, outside the MSBuild of the test run, and returns its output.</summary>
    public static Task<string> RunDotnetAsync(params string[] arguments) => RunDotnetInAsync(NodeProcess.RepositoryRoot, arguments);

    /// <summary>Runs <c>dotnet</c> in <paramref name="folder"/>, outside the MSBuild of the test run, and returns its output.</summary>
    public static async Task<string> RunDotnetInAsync(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = folder,
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
