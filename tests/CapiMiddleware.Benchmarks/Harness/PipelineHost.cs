using CapiMiddleware.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// The library's sending side as an application runs it: <c>AddMetaConversions</c> in a generic host, so the real
/// <see cref="IConversionQueue"/>, outbox store, <c>OutboxSender</c> and <c>GraphApiClient</c> (over HTTP) do the work.
/// </summary>
internal sealed class PipelineHost : IAsyncDisposable
{
    private readonly IHost _host;

    private PipelineHost(IHost host) => _host = host;

    public IConversionQueue Queue => _host.Services.GetRequiredService<IConversionQueue>();

    public IOutboxStore Store => _host.Services.GetRequiredService<IOutboxStore>();

    public static async Task<PipelineHost> StartAsync(string graphUrl, Action<MetaConversionsOptions> configure, Action<IServiceCollection>? services = null)
    {
        var pipeline = Create(graphUrl, configure, services);
        await pipeline.StartSendingAsync();
        return pipeline;
    }

    /// <summary>
    /// The services, with the sender not started: what is enqueued waits until <see cref="StartSendingAsync"/>.
    /// <paramref name="services"/> adds the harness's own (a logger provider that counts a log event).
    /// </summary>
    public static PipelineHost Create(string graphUrl, Action<MetaConversionsOptions> configure, Action<IServiceCollection>? services = null)
    {
        // No default configuration sources: their file watchers would follow whatever changes under the current folder.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLogging();
        builder.Services.AddMetaConversions(o =>
        {
            o.PixelId = "1234567890";
            o.AccessToken = "harness-token";
            o.GraphApiBaseUrl = graphUrl;
            configure(o);
        });
        builder.Services.AddSqliteOutbox().AddRedisOutbox(); // the harnesses choose the store by its options
        services?.Invoke(builder.Services);
        return new PipelineHost(builder.Build());
    }

    public Task StartSendingAsync() => _host.StartAsync();

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(stop.Token);
        _host.Dispose();
    }
}
