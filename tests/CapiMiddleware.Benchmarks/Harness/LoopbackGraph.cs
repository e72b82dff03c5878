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
/// <c>{"events_received":N}</c>, after <see cref="Delay"/>; or refuses the token (code 190); or, while
/// <see cref="Down"/>, fails as Graph does in an outage. Unlike the tests' <c>FakeGraphApiServer</c> it validates and
/// records nothing (except, given an <see cref="EventTally"/>, which numbered events it accepted), so it costs the
/// machine little besides the HTTP itself.
/// </summary>
internal sealed class LoopbackGraph : IAsyncDisposable
{
    private static readonly byte[] EventStart = "{\"event_name\":"u8.ToArray();
    private static readonly byte[] Unavailable =
        Encoding.UTF8.GetBytes("""{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"harness"}}""");

    private static readonly byte[] TokenRejected =
        Encoding.UTF8.GetBytes("""{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"fbtrace_id":"harness"}}""");

    private readonly WebApplication _app;
    private readonly EventTally? _tally;
    private long _events;
    private long _requests;
    private long _failed;
    private volatile bool _down;

    private LoopbackGraph(WebApplication app, TimeSpan delay, bool rejectToken, EventTally? tally)
    {
        _app = app;
        Delay = delay;
        RejectToken = rejectToken;
        _tally = tally;
    }

    public string BaseUrl { get; private set; } = null!;

    /// <summary>How long each answer waits: Graph's distance from the shop.</summary>
    public TimeSpan Delay { get; }

    public bool RejectToken { get; }

    /// <summary>The events acknowledged so far.</summary>
    public long EventsReceived => Interlocked.Read(ref _events);

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>The requests answered with a failure while <see cref="Down"/>.</summary>
    public long FailedRequests => Interlocked.Read(ref _failed);

    /// <summary>
    /// While set, Graph is in an outage: two requests in three get a 503 with a transient Graph error (code 2), the
    /// third no answer for <see cref="HangTime"/>, longer than the library's attempt time-out.
    /// </summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    /// <summary>How long a request left unanswered during an outage hangs. The default value is 12 seconds.</summary>
    public TimeSpan HangTime { get; set; } = TimeSpan.FromSeconds(12);

    public static async Task<LoopbackGraph> StartAsync(TimeSpan delay = default, bool rejectToken = false, EventTally? tally = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var graph = new LoopbackGraph(app, delay, rejectToken, tally);
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
        var request = Interlocked.Increment(ref _requests);
        if (_down)
        {
            await FailAsync(context, request);
            return;
        }

        if (_tally is not null)
        {
            await TallyAsync(context);
            return;
        }

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

    private async Task FailAsync(HttpContext context, long request)
    {
        Interlocked.Increment(ref _failed);
        if (request % 3 == 0)
        {
            try
            {
                await Task.Delay(HangTime, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // the client gave up, as it should
            }
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(Unavailable);
    }

    /// <summary>Reads the whole body into a pooled buffer, tallies the numbered event IDs in it, and accepts them.</summary>
    private async Task TallyAsync(HttpContext context)
    {
        var length = (int)(context.Request.ContentLength ?? 4 * 1024 * 1024);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var read = 0;
            int n;
            while ((n = await context.Request.Body.ReadAsync(buffer.AsMemory(read))) > 0)
            {
                read += n;
                if (read == buffer.Length)
                {
                    throw new InvalidOperationException("A request body larger than the harness expects.");
                }
            }

            var count = _tally!.Add(buffer.AsSpan(0, read));
            Interlocked.Add(ref _events, count);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"events_received":{{count}},"messages":[],"fbtrace_id":"harness"}""");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
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

/// <summary>
/// How many times Graph accepted each event of a run whose event IDs are <see cref="Prefix"/> and a number below the
/// capacity: one counter per number, allocated up front, so the tally does not grow the heap it helps to measure.
/// </summary>
internal sealed class EventTally(int capacity)
{
    public const string Prefix = "soak-";

    private static readonly byte[] Marker = Encoding.UTF8.GetBytes("\"event_id\":\"" + Prefix);

    private readonly int[] _times = new int[capacity];

    public static string IdOf(long number) => Prefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Tallies the event IDs in one request's body; returns how many events it holds.</summary>
    public int Add(ReadOnlySpan<byte> body)
    {
        var count = 0;
        while (body.IndexOf(Marker) is var at and >= 0)
        {
            body = body[(at + Marker.Length)..];
            var number = 0;
            var digits = 0;
            while (digits < body.Length && body[digits] is >= (byte)'0' and <= (byte)'9')
            {
                number = (number * 10) + (body[digits] - '0');
                digits++;
            }

            Interlocked.Increment(ref _times[number]);
            count++;
        }

        return count;
    }

    /// <summary>The events accepted at least once, and the copies beyond the first.</summary>
    public (long Distinct, long Duplicates) Totals(long below)
    {
        long distinct = 0;
        long duplicates = 0;
        for (var i = 0; i < below && i < _times.Length; i++)
        {
            var times = Volatile.Read(ref _times[i]);
            distinct += times > 0 ? 1 : 0;
            duplicates += times > 1 ? times - 1 : 0;
        }

        return (distinct, duplicates);
    }
}
