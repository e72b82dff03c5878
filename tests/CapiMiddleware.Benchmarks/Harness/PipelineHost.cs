using CapiMiddleware.Dispatch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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

    public static async Task<PipelineHost> StartAsync(string graphUrl, Action<MetaConversionsOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddMetaConversions(o =>
        {
            o.PixelId = "1234567890";
            o.AccessToken = "harness-token";
            o.GraphApiBaseUrl = graphUrl;
            configure(o);
        });
        var host = builder.Build();
        await host.StartAsync();
        return new PipelineHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(stop.Token);
        _host.Dispose();
    }
}
