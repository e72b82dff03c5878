using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// A second web server on loopback, on a port of its own: the pages of "another site" that a visitor of the shop also
/// opens. The browser reaches it under any <c>*.test</c> name (see browser-host.cjs), so one server can be a foreign
/// site (<c>attacker.test</c>) or a sibling of the shop's (<c>evil.shop.test</c>). It serves whatever HTML a test gives it.
/// </summary>
public sealed class OtherSite : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, string> _pages = new(StringComparer.Ordinal);
    private WebApplication? _app;

    /// <summary>The port it listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Serves <paramref name="html"/> at <paramref name="path"/> from now on.</summary>
    public void Serve(string path, string html) => _pages[path] = html;

    /// <summary>This site's URL for <paramref name="path"/> under the host name <paramref name="host"/>.</summary>
    public Uri Url(string host, string path) => new($"http://{host}:{Port}{path}");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(context => _pages.TryGetValue(context.Request.Path.Value ?? "", out var html)
            ? Results.Content(html, "text/html; charset=utf-8").ExecuteAsync(context)
            : Results.NotFound().ExecuteAsync(context));
        await _app.StartAsync();
        Port = new Uri(_app.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
