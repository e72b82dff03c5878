using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// A cheap stand-in for Graph's <c>POST /{version}/{pixel}/events</c> on loopback Kestrel: it reads the body, counts the
/// events in it (the occurrences of <c>{"event_name":</c>, which every event the library writes starts with) and answers
/// <c>{"events_received":N}</c>, after <see cref="Delay"/>; or refuses the token (code 190). Unlike the tests'
/// <c>FakeGraphApiServer</c> it validates and records nothing, so it costs the machine little besides the HTTP itself.
/// </summary>
internal sealed class LoopbackGraph : IAsyncDisposable
{
    private static readonly byte[] EventStart = "{\"event_name\":"u8.ToArray();
    private static readonly byte[] TokenRejected =
        Encoding.UTF8.GetBytes("""{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"fbtrace_id":"harness"}}""");

    private readonly WebApplication _app;
    private long _events;
    private long _requests;

    private LoopbackGraph(WebApplication app, TimeSpan delay, bool rejectToken)
    {
        _app = app;
        Delay = delay;
        RejectToken = rejectToken;
    }

    public string BaseUrl { get; private set; } = null!;

    /// <summary>How long each answer waits: Graph's distance from the shop.</summary>
    public TimeSpan Delay { get; }

    public bool RejectToken { get; }

    /// <summary>The events acknowledged so far.</summary>
    public long EventsReceived => Interlocked.Read(ref _events);

    public long Requests => Interlocked.Read(ref _requests);

    public static async Task<LoopbackGraph> StartAsync(TimeSpan delay = default, bool rejectToken = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var graph = new LoopbackGraph(app, delay, rejectToken);
        app.Run(graph.HandleAsync);
        await app.StartAsync();
        graph.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return graph;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var reader = context.Request.BodyReader;
        long count = 0;
        while (true)
        {
            var read = await reader.ReadAsync();
            // The marker may straddle two segments: count over whole segments and keep the tail for the next read.
            var buffer = read.Buffer;
            var consumed = Count(buffer, ref count);
            if (read.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                break;
            }

            reader.AdvanceTo(consumed, buffer.End);
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }

        context.Response.ContentType = "application/json";
        if (RejectToken)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await context.Response.Body.WriteAsync(TokenRejected);
            return;
        }

        Interlocked.Add(ref _events, count);
        await context.Response.WriteAsync($$"""{"events_received":{{count}},"messages":[],"fbtrace_id":"harness"}""");
    }

    private static SequencePosition Count(ReadOnlySequence<byte> buffer, ref long count)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryAdvanceTo(EventStart[0], advancePastDelimiter: false))
        {
            if (reader.Remaining < EventStart.Length)
            {
                return reader.Position; // perhaps a marker cut short: read it again with more bytes
            }

            if (reader.IsNext(EventStart, advancePast: true))
            {
                count++;
            }
            else
            {
                reader.Advance(1);
            }
        }

        return buffer.End;
    }
}
