using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace CapiMiddleware.Dispatch;

/// <summary>
/// Sends batches to <c>POST {base}/{version}/{pixel}/events</c> through one named <see cref="HttpClient"/>, with a
/// Polly pipeline: a per-attempt time-out inside a retry with exponential back-off and jitter that honours
/// <c>Retry-After</c> and retries only what Meta's error reference calls temporary. The token goes in the
/// <c>Authorization</c> header, never in the URL or the body.
/// </summary>
internal sealed class GraphApiClient : IConversionTransport
{
    public const string HttpClientName = "CapiMiddleware.GraphApi";

    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _time;
    private readonly ILogger<GraphApiClient> _logger;
    private readonly DeliveryTelemetry _telemetry;
    private Tuple<MetaConversionsOptions, ResiliencePipeline<GraphSendResult>>? _pipeline;
    private ArrayBufferWriter<byte>? _spareBody;

    public GraphApiClient(IHttpClientFactory httpClientFactory, TimeProvider time, ILogger<GraphApiClient> logger, DeliveryTelemetry telemetry)
    {
        _httpClientFactory = httpClientFactory;
        _time = time;
        _logger = logger;
        _telemetry = telemetry;
    }

    public async Task<GraphSendResult> SendAsync(PixelRoute pixel, IReadOnlyList<OutboxEntry> batch, MetaConversionsOptions options, CancellationToken cancellationToken)
    {
        // A full batch is a megabyte or so: a new buffer each time lands on the large object heap and brings on a full
        // collection every few batches (docs/performance.md), so the sender reuses one; a concurrent send takes a new one.
        var buffer = Interlocked.Exchange(ref _spareBody, null) ?? new ArrayBufferWriter<byte>(EstimateSize(batch));
        var proof = string.IsNullOrEmpty(pixel.AppSecret) ? null : GraphRequestBody.AppSecretProof(pixel.AccessToken!, pixel.AppSecret);
        GraphRequestBody.Write(buffer, batch, pixel.TestEventCode, appSecretProof: proof);
        var request = new AttemptState(this, GraphRequestBody.EventsPath(options, pixel.PixelId), buffer.WrittenMemory, pixel.AccessToken!, pixel.PixelId) { EventCount = batch.Count };

        try
        {
            return await PipelineFor(options).ExecuteAsync(
                static (state, token) => new ValueTask<GraphSendResult>(state.Client.SendOnceAsync(state, token)),
                request,
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new GraphSendResult(SendOutcome.Cancelled);
        }
        catch (TimeoutRejectedException)
        {
            return GraphSendResult.TransientFailure($"no answer within {options.AttemptTimeout.TotalSeconds:0.###} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return GraphSendResult.TransientFailure($"{ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            buffer.ResetWrittenCount();
            Volatile.Write(ref _spareBody, buffer);
        }
    }

    private async Task<GraphSendResult> SendOnceAsync(AttemptState state, CancellationToken cancellationToken)
    {
        if (++state.Attempt > 1)
        {
            _telemetry.Retrying(state.EventCount, state.Attempt);
        }

        using var content = new ReadOnlyMemoryContent(state.Body);
        content.Headers.ContentType = JsonContentType;
        using var message = new HttpRequestMessage(HttpMethod.Post, state.Url) { Content = content };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", state.AccessToken);

        var client = _httpClientFactory.CreateClient(HttpClientName);
        using var response = await client.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);

        if (response.StatusCode == HttpStatusCode.OK)
        {
            var accepted = TryParse(body, GraphJsonContext.Default.GraphResponse);
            // A 200 that is not Graph's answer (a proxy's page, a truncated body) proves nothing: send again,
            // Meta deduplicates by event ID.
            return accepted is null
                ? GraphSendResult.TransientFailure("HTTP 200 with an unreadable body")
                : GraphSendResult.Accepted(accepted.EventsReceived, accepted.FbTraceId);
        }

        var error = TryParse(body, GraphJsonContext.Default.GraphErrorEnvelope)?.Error;
        var detail = error is null ? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} with a body that is not a Graph error" : null;
        return GraphSendResult.FromError(response.StatusCode, error, RetryAfterOf(response), detail);
    }

    private ResiliencePipeline<GraphSendResult> PipelineFor(MetaConversionsOptions options)
    {
        var cached = Volatile.Read(ref _pipeline);
        if (cached is not null && ReferenceEquals(cached.Item1, options))
        {
            return cached.Item2;
        }

        // Polly refuses a retry strategy of 0 attempts; MaxRetryAttempts = 0 means one attempt, no retry.
        var builder = new ResiliencePipelineBuilder<GraphSendResult> { TimeProvider = _time };
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<GraphSendResult>
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = MaxRetryDelay,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome switch
                {
                    { Result.Outcome: SendOutcome.Transient } => true,
                    { Exception: HttpRequestException or IOException or TimeoutRejectedException } => true,
                    _ => false,
                }),
                DelayGenerator = args => ValueTask.FromResult(RetryDelay(args.Outcome.Result, args.AttemptNumber, options.RetryBaseDelay)),
                OnRetry = args =>
                {
                    var reason = args.Outcome switch
                    {
                        { Result: { } result } => result.Describe(),
                        { Exception: TimeoutRejectedException } => $"no answer within {options.AttemptTimeout.TotalSeconds:0.###} s",
                        { Exception: { } ex } => $"{ex.GetType().Name}: {ex.Message}",
                        _ => "unknown",
                    };
                    Log.Retrying(_logger, args.AttemptNumber + 1, args.RetryDelay, reason);
                    return ValueTask.CompletedTask;
                },
            });
        }

        var pipeline = builder.AddTimeout(options.AttemptTimeout).Build();

        Volatile.Write(ref _pipeline, Tuple.Create(options, pipeline));
        return pipeline;
    }

    private static TimeSpan? RetryDelay(GraphSendResult? result, int attempt, TimeSpan baseDelay)
    {
        if (result?.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero)
        {
            return retryAfter < MaxRetryAfter ? retryAfter : MaxRetryAfter;
        }

        if (result?.IsThrottled == true)
        {
            // Throttling: back off harder than for a glitch, still with jitter.
            var delay = baseDelay * 4 * Math.Pow(2, Math.Min(attempt, 6)) * (0.75 + (Random.Shared.NextDouble() / 2));
            return delay < MaxRetryAfter ? delay : MaxRetryAfter;
        }

        return null;
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? date - _time.GetUtcNow() : null;
    }

    /// <summary>Graph's JSON answer, or null when the body is empty or not that JSON.</summary>
    internal static T? TryParse<T>(byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return body.Length == 0 ? null : JsonSerializer.Deserialize(body, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static int EstimateSize(IReadOnlyList<OutboxEntry> batch)
    {
        var size = 128;
        foreach (var entry in batch)
        {
            size += entry.Payload.Length + 1;
        }

        return size;
    }

    private sealed record AttemptState(GraphApiClient Client, string Url, ReadOnlyMemory<byte> Body, string AccessToken, string PixelId)
    {
        public int EventCount { get; init; }

        /// <summary>The attempt under way, from 1: every one after the first is a retry (counted as such).</summary>
        public int Attempt { get; set; }
    }
}
