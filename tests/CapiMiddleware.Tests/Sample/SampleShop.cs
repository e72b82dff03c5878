extern alias MinimalApiApp;

using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Tests.Sample;

/// <summary>
/// A sample web app as a user runs it: its own Program (the entry point of <typeparamref name="TEntryPoint"/>'s
/// assembly), on a real Kestrel server on loopback, pointed by configuration (as the MetaConversions__* variables would)
/// at a fake Graph API server.
/// </summary>
public class SampleApp<TEntryPoint> : IAsyncLifetime
    where TEntryPoint : class
{
    public const string MainPixelId = "1234567890";
    public const string SecondStorePixelId = "2222222222";
    public const string SecondStoreHost = "second-store.test";

    private Factory _factory = null!;

    public FakeGraphApiServer Graph { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The running app's services (the library's internals included, for tests that look inside).</summary>
    public IServiceProvider Services => _factory.Services;

    /// <summary>Every POST the app has answered, as it arrived (before the app's own middleware) and with its status.</summary>
    public ConcurrentQueue<ReceivedPost> Posts { get; } = new();

    /// <summary>The cookie by which ASP.NET Core's CookiePolicy remembers the visitor's consent.</summary>
    public const string ConsentCookieName = ".AspNet.Consent";

    public const string ConsentCookieValue = "yes";

    /// <summary>Whether the shop has an access token and sends to the fake Graph API, or runs on its embedded defaults.</summary>
    protected virtual bool SendsToGraph => true;

    /// <summary>More configuration of the app, as <c>MetaConversions__*</c> variables would set it. The default value is none.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    /// <summary>Prepares the fake Graph API before the app starts (answers the app asks for at start).</summary>
    protected virtual void PrepareGraph(FakeGraphApiServer graph)
    {
    }

    public async Task InitializeAsync()
    {
        Graph = await FakeGraphApiServer.StartAsync();
        PrepareGraph(Graph);
        _factory = new Factory(Graph, Logs, SendsToGraph, Posts, Settings);
        // The port comes from configuration (urls, below), not UseKestrel(0): that overload clears the server's addresses
        // after the app has started binding them on its own thread, and throws when the bind wins (dotnet/aspnetcore
        // #67714, seen once on CI here).
        _factory.UseKestrel();
        _factory.StartServer();
        var address = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await Graph.DisposeAsync();
    }

    /// <summary>
    /// A browser-like client with its own cookie jar; redirects are not followed, so tests see them. Unless told
    /// otherwise, the visitor has accepted the sample's cookie banner (CookiePolicy's consent cookie is in the jar).
    /// </summary>
    public HttpClient CreateBrowser(CookieContainer cookies, bool consented = true)
    {
        if (consented)
        {
            cookies.Add(BaseUrl, new Cookie(ConsentCookieName, ConsentCookieValue));
        }

        var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = BaseUrl };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(TestApp.UserAgent);
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        return client;
    }

    /// <summary>Waits for the one server event with this ID to reach the fake Graph API for the main pixel, and returns it.</summary>
    public async Task<JsonElement> WaitForServerEventAsync(string eventId)
    {
        bool Matches(JsonElement e) => e.GetProperty("event_id").GetString() == eventId;
        IEnumerable<JsonElement> MainPixel() => Graph.Requests.Where(r => r.PixelId == MainPixelId && r.StatusCode == 200).SelectMany(r => r.Events);
        await Eventually.TrueAsync(() => MainPixel().Any(Matches), $"event {eventId} reaches the fake Graph API\n{Logs.AllText}");
        // Once the outbox is empty, everything queued so far has reached Graph: a duplicate would be there by now.
        var store = Services.GetRequiredService<IOutboxStore>();
        await Eventually.TrueAsync(async () => await store.CountAsync(default) == 0, "the outbox is empty");
        return Assert.Single(MainPixel(), Matches);
    }

    private sealed class Factory(FakeGraphApiServer graph, LogCapture logs, bool sendsToGraph, ConcurrentQueue<ReceivedPost> posts, IReadOnlyDictionary<string, string> settings)
        : WebApplicationFactory<TEntryPoint>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new RecordPosts(posts)));
            if (sendsToGraph)
            {
                builder.UseSetting("MetaConversions:PixelId", MainPixelId);
                builder.UseSetting("MetaConversions:AccessToken", graph.Options.ExpectedAccessToken);
                builder.UseSetting("MetaConversions:GraphApiBaseUrl", graph.BaseUrl.ToString());

                // A second storefront with its own pixel, on its own host only.
                builder.UseSetting("MetaConversions:Pixels:0:PixelId", SecondStorePixelId);
                builder.UseSetting("MetaConversions:Pixels:0:Hosts:0", SecondStoreHost);
            }

            builder.UseSetting(WebHostDefaults.ServerUrlsKey, "http://127.0.0.1:0");
            builder.UseSetting("MetaConversions:FlushInterval", "00:00:00.050");
            builder.UseSetting("MetaConversions:RetryBaseDelay", "00:00:00.010");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(l => l.AddProvider(logs));
        }
    }
}

/// <summary>A POST as the server received it: where a browser said it came from, and the answer it got.</summary>
public sealed record ReceivedPost(string Host, string Path, string? SecFetchSite, string? Origin, string? Referer, string? ContentType, int Status);

/// <summary>Records each POST in front of the app's own pipeline, once it is answered.</summary>
internal sealed class RecordPosts(ConcurrentQueue<ReceivedPost> posts) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, inner) =>
        {
            await inner(context);
            var request = context.Request;
            if (HttpMethods.IsPost(request.Method))
            {
                posts.Enqueue(new ReceivedPost(
                    request.Host.Value ?? "", request.Path.Value ?? "", request.Headers["Sec-Fetch-Site"].FirstOrDefault(),
                    request.Headers.Origin.FirstOrDefault(), request.Headers.Referer.FirstOrDefault(), request.ContentType,
                    context.Response.StatusCode));
            }
        });
        next(app);
    };
}

/// <summary>The sample shop (samples/Shop).</summary>
public class SampleShop : SampleApp<Program>;

/// <summary>The sample shop with Meta's Dataset Quality figures on, the fake Graph answering Meta's examples for its pixel.</summary>
public sealed class DatasetQualitySampleShop : SampleShop
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["MetaConversions:DatasetQuality:Enabled"] = "true",
        ["MetaConversions:DatasetQuality:MinimumMatchQuality"] = "6",
        ["MetaConversions:DatasetQuality:MinimumEventCoverage"] = "75",
    };

    protected override void PrepareGraph(FakeGraphApiServer graph) => graph.SetDatasetQuality(MainPixelId, DatasetQualityExamples.EveryField);
}

/// <summary>The sample on its embedded defaults, as `dotnet run` starts it: no access token, events shown in the log.</summary>
public sealed class ShowOnlySampleShop : SampleShop
{
    protected override bool SendsToGraph => false;
}

/// <summary>The minimal-API sample (samples/MinimalApi).</summary>
public class MinimalApiSample : SampleApp<MinimalApiApp::MinimalApi.Newsletter>;

/// <summary>The minimal-API sample on its embedded defaults: no access token, events shown in the log.</summary>
public sealed class ShowOnlyMinimalApiSample : MinimalApiSample
{
    protected override bool SendsToGraph => false;
}
