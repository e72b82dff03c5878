using System.Net;
using CapiMiddleware.FakeGraph;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>
/// A small MVC application with the library, on a real Kestrel server on loopback, sending to a fake Graph API
/// server (also on loopback). Its controllers are <see cref="TestController"/>, its Razor Pages those under Pages/.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64) CapiMiddlewareTests/1.0";

    private readonly WebApplication _app;

    private TestApp(WebApplication app, FakeGraphApiServer? graph, LogCapture logs, Uri baseUrl)
    {
        _app = app;
        Graph = graph;
        Logs = logs;
        BaseUrl = baseUrl;
        Cookies = new CookieContainer();
        Client = CreateClient(Cookies);
    }

    public FakeGraphApiServer? Graph { get; }

    public LogCapture Logs { get; }

    public Uri BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>A browser-like client: keeps cookies, does not follow redirects, sends a user agent.</summary>
    public HttpClient Client { get; }

    public CookieContainer Cookies { get; }

    /// <summary>
    /// Starts the app. With <paramref name="sendToGraph"/>, a fake Graph API server is started too and the app is
    /// configured to send to it; otherwise the app has no access token and only logs what it would send. The library's
    /// endpoints are mapped as documented (<c>app.MapMetaConversions()</c>), unless <paramref name="mapLibraryEndpoints"/>
    /// is false: an app that calls only <c>UseMetaConversions()</c>.
    /// </summary>
    public static async Task<TestApp> StartAsync(
        Action<MetaConversionsOptions>? configure = null,
        bool sendToGraph = true,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? beforeLibrary = null,
        Action<WebApplication>? endpoints = null,
        FakeGraphApiOptions? graphOptions = null,
        bool mapLibraryEndpoints = true)
    {
        var graph = sendToGraph ? await FakeGraphApiServer.StartAsync(graphOptions) : null;
        var logs = new LogCapture();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(TestApp).Assembly.GetName().Name,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration.Sources.Clear(); // not the sample's appsettings.json that sits beside the tests
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);

        builder.Services.AddControllersWithViews()
            .ConfigureApplicationPartManager(m =>
            {
                m.ApplicationParts.Clear();
                m.ApplicationParts.Add(new AssemblyPart(typeof(TestApp).Assembly));
                m.ApplicationParts.Add(new CompiledRazorAssemblyPart(typeof(TestApp).Assembly));
            });
        builder.Services.AddRazorPages(); // the pages under Pages/, from the same application parts
        builder.Services.AddMetaConversions(o =>
        {
            o.PixelId = "1234567890";
            if (graph is not null)
            {
                o.AccessToken = graph.Options.ExpectedAccessToken;
                o.GraphApiBaseUrl = graph.BaseUrl.ToString();
            }

            o.FlushInterval = TimeSpan.FromMilliseconds(20);
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            configure?.Invoke(o);
        });
        builder.Services.AddSqliteOutbox().AddRedisOutbox(); // both packages, as the Shop has them: the options choose
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        services?.Invoke(builder.Services);

        var app = builder.Build();
        beforeLibrary?.Invoke(app);
        app.UseMetaConversions();
        if (mapLibraryEndpoints)
        {
            app.MapMetaConversions();
        }

        app.MapControllers();
        app.MapRazorPages();
        endpoints?.Invoke(app);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestApp(app, graph, logs, new Uri(address));
    }

    public HttpClient CreateClient(CookieContainer? cookies = null)
    {
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = cookies is not null,
            CookieContainer = cookies ?? new CookieContainer(),
        };
        var client = new HttpClient(handler) { BaseAddress = BaseUrl };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        return client;
    }

    /// <summary>Posts a form with the browser-like client, asserts a 200 (showing the log otherwise), and returns the page.</summary>
    public async Task<string> PostOkAsync(string path, params (string Name, string Value)[] fields)
    {
        using var response = await Client.PostAsync(path, Form(fields));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {response.StatusCode}:\n{Logs.AllText}");
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>
    /// Waits until the outbox holds nothing: every event queued so far has been answered by Graph (acknowledged or
    /// dead-lettered), none is waiting, being sent or waiting to be retried. From then on the fake Graph has seen all
    /// it will ever see of what was queued, so a test can assert that nothing more arrived without sleeping first.
    /// </summary>
    public Task WaitForOutboxEmptyAsync()
    {
        var store = Services.GetRequiredService<IOutboxStore>();
        return Eventually.TrueAsync(async () => await store.CountAsync(default) == 0, "the outbox is empty: every queued event answered by Graph");
    }

    public static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    /// <summary>Stops the app (draining its queue) and leaves the fake Graph server running for inspection.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (Graph is not null)
        {
            await Graph.DisposeAsync();
        }
    }
}
