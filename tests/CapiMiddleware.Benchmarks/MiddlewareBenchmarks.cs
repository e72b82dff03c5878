using BenchmarkDotNet.Attributes;
using CapiMiddleware.Context;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Benchmarks;

/// <summary>
/// The cost the middleware adds to a page request. A returning visitor (valid <c>_fbp</c>, no <c>fbclid</c>) must cost
/// no allocation; a new visitor from an ad gets <c>_fbc</c> and <c>_fbp</c> minted.
/// </summary>
[MemoryDiagnoser]
public class MiddlewareBenchmarks
{
    private ServiceProvider _services = null!;
    private MetaConversionsMiddleware _middleware = null!;
    private DefaultHttpContext _returningVisitor = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddLogging().AddMetaConversions(_ => { }).BuildServiceProvider();
        _middleware = new MetaConversionsMiddleware(
            static _ => Task.CompletedTask,
            _services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>(),
            TimeProvider.System,
            _services.GetRequiredService<TrackingConsent>(),
            NullLogger<MetaConversionsMiddleware>.Instance);

        // Nothing to write, so the same context can be served again and again.
        _returningVisitor = PageRequest("?utm_source=newsletter", "_fbp=fb.1.1700000000000.1234567890; session=abc");
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Description = "returning visitor: nothing to do")]
    public Task ReturningVisitor() => _middleware.Invoke(_returningVisitor);

    /// <summary>What a fresh request costs before the middleware sees it; subtract it from <see cref="NewVisitorFromAd"/>.</summary>
    [Benchmark(Description = "new visitor: the request alone (baseline)")]
    public DefaultHttpContext NewVisitorRequestAlone() => PageRequest("?fbclid=IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk", null);

    [Benchmark(Description = "new visitor from an ad: mints _fbc and _fbp")]
    public Task NewVisitorFromAd()
    {
        // Set-Cookie accumulates on a response, so each call needs its own request.
        var context = PageRequest("?fbclid=IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk", null);
        return _middleware.Invoke(context);
    }

    private static DefaultHttpContext PageRequest(string query, string? cookie)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("shop.example.com");
        context.Request.Path = "/products/1";
        context.Request.QueryString = new QueryString(query);
        context.Request.Headers.Accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        context.Request.Headers.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36";
        context.Request.Headers["Sec-Fetch-Dest"] = "document";
        if (cookie is not null)
        {
            context.Request.Headers.Cookie = cookie;
        }

        return context;
    }
}
