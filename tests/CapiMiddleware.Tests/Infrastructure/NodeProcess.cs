using System.Runtime.CompilerServices;
using Jering.Javascript.NodeJS;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>One real Node process, through Jering, for running the repository's JavaScript from C# tests.</summary>
public sealed class NodeProcess : IAsyncDisposable, IDisposable
{
    private readonly ServiceProvider _services;

    public NodeProcess()
    {
        var services = new ServiceCollection();
        services.AddNodeJS();
        services.Configure<NodeJSProcessOptions>(o => o.ProjectPath = RepositoryRoot);
        _services = services.BuildServiceProvider();
        Service = _services.GetRequiredService<INodeJSService>();
    }

    /// <summary>The repository's root folder: the one with <c>client/dist/meta-capi.js</c> (built by every C# build).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public INodeJSService Service { get; }

    /// <summary>Calls a plain (non-async) <c>fn(callback, ...args)</c> export of a module in the repository.</summary>
    public async Task<T> InvokeAsync<T>(string repositoryRelativePath, string exportName, params object?[] args)
    {
        var path = Path.Combine(RepositoryRoot, repositoryRelativePath);
        var result = await Service.InvokeFromFileAsync<T>(path, exportName, args);
        return result ?? throw new InvalidOperationException($"{repositoryRelativePath} {exportName}() returned nothing.");
    }

    public void Dispose() => _services.Dispose();

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    // The output folder sits under the repository; a build elsewhere still knows where this file was compiled from.
    private static string FindRepositoryRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "client", "dist", "meta-capi.js")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException(
            "client/dist/meta-capi.js not found above " + AppContext.BaseDirectory + ": build the solution (it runs `node client/build.mjs`).");
    }
}
