using System.Net;
using System.Text.Json;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Diagnostics;

/// <summary><c>AddHealthChecks().AddMetaConversions()</c> through a real <c>/health</c> endpoint, as a load balancer sees it.</summary>
public sealed class HealthCheckTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Healthy_then_degraded_while_Meta_fails_then_unhealthy_while_the_token_is_refused_then_healthy_again()
    {
        await using var app = await StartAsync();
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        var start = await HealthAsync(app);
        Assert.Equal((HttpStatusCode.OK, "Healthy", "Nothing sent yet."), (start.Code, start.Status, start.Description));
        Assert.Equal(0, start.Data.GetProperty("queue_depth").GetInt64());

        await queue.EnqueueAsync(SampleEvents.Purchase("ord-1"));
        await app.Graph!.WaitForEventsAsync(1, Wait);
        var sent = await EventuallyAsync(app, h => h.Data.TryGetProperty("last_success", out _));
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (sent.Code, sent.Status));

        app.Graph.Responder = _ => FakeResponse.Status(503);
        await queue.EnqueueAsync(SampleEvents.Purchase("ord-2"));
        var failing = await EventuallyAsync(app, h => h.Status == "Degraded");
        Assert.Equal(HttpStatusCode.OK, failing.Code); // degraded still serves traffic
        Assert.Contains("Sending to Meta fails", failing.Description);
        Assert.Contains("HTTP 503", failing.Data.GetProperty("last_failure").GetString());
        Assert.Equal(1, failing.Data.GetProperty("queue_depth").GetInt64());

        app.Graph.Responder = _ => FakeResponse.GraphError(190, message: "Error validating access token");
        var refused = await EventuallyAsync(app, h => h.Status == "Unhealthy");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Code);
        Assert.Contains("Meta refuses the access token", refused.Description);
        Assert.Contains("Error validating access token (code 190", refused.Description);
        Assert.DoesNotContain(app.Graph.Options.ExpectedAccessToken, refused.Body);

        app.Graph.Responder = null;
        var healthy = await EventuallyAsync(app, h => h.Status == "Healthy");
        Assert.Equal("Meta accepts the events sent.", healthy.Description);
        Assert.Contains(app.Graph.AcceptedEvents, e => e.GetProperty("event_id").GetString() == "ord-2");
        await EventuallyAsync(app, h => h.Data.GetProperty("queue_depth").GetInt64() == 0);
    }

    [Fact]
    public async Task A_refused_token_can_be_reported_as_degraded_for_probes_that_restart_unhealthy_instances()
    {
        await using var app = await StartAsync(failureStatus: HealthStatus.Degraded);
        app.Graph!.EnqueueResponse(FakeResponse.GraphError(190, message: "Error validating access token"));

        await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(SampleEvents.Purchase("ord-1"));

        var refused = await EventuallyAsync(app, h => h.Status != "Healthy");
        Assert.Equal((HttpStatusCode.OK, "Degraded"), (refused.Code, refused.Status));
        Assert.Contains("Meta refuses the access token", refused.Description);
    }

    [Fact]
    public async Task Without_an_access_token_it_is_healthy_and_says_nothing_is_sent()
    {
        await using var app = await StartAsync(sendToGraph: false);
        var health = await HealthAsync(app);
        Assert.Equal("Healthy", health.Status);
        Assert.Contains("events are written to the log, not sent", health.Description);
    }

    [Fact]
    public async Task Without_AddMetaConversions_the_check_says_so_instead_of_failing_the_endpoint()
    {
        await using var services = new ServiceCollection().AddLogging().AddHealthChecks().AddMetaConversions().Services.BuildServiceProvider();

        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var entry = report.Entries[MetaConversionsDiagnostics.HealthCheckName];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("services.AddMetaConversions(...) was not called", entry.Description);
    }

    [Fact]
    public void A_temporary_failure_while_the_token_is_refused_does_not_hide_the_refusal()
    {
        var health = new DeliveryHealth(new FakeTimeProvider());

        health.Record(GraphSendResult.FromError(HttpStatusCode.BadRequest, new GraphError { Code = 190, Message = "expired" }, null, null));
        health.Record(GraphSendResult.TransientFailure("connection reset"));
        health.Record(GraphSendResult.FromError(HttpStatusCode.BadRequest, new GraphError { Code = 100, Message = "one bad event" }, null, null));

        Assert.Equal(SendOutcome.TokenRejected, health.Current.Paused);
        Assert.Equal((2, "no response: connection reset"), (health.Current.ConsecutiveFailures, health.Current.LastFailure));

        health.Record(GraphSendResult.Accepted(1, "trace"));
        var state = health.Current;
        Assert.Equal((null, null, 0), (state.Paused, state.FailingSince, state.ConsecutiveFailures));
        Assert.NotNull(state.LastSuccess);
        Assert.Equal("no response: connection reset", state.LastFailure); // kept, for the record
    }

    private static Task<TestApp> StartAsync(HealthStatus? failureStatus = null, bool sendToGraph = true) =>
        TestApp.StartAsync(
            o =>
            {
                o.MaxRetryAttempts = 0;
                o.RequeueDelay = TimeSpan.FromMilliseconds(100);
                o.TokenProbeInterval = TimeSpan.FromMilliseconds(100);
            },
            sendToGraph,
            services: s => s.AddHealthChecks().AddMetaConversions(failureStatus: failureStatus),
            endpoints: app => app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteJsonAsync }));

    private static async Task<Health> EventuallyAsync(TestApp app, Func<Health, bool> condition)
    {
        Health? last = null;
        await Eventually.TrueAsync(async () => condition(last = await HealthAsync(app)), "the health check reports the expected state", Wait);
        return last!;
    }

    private static async Task<Health> HealthAsync(TestApp app)
    {
        using var response = await app.Client.GetAsync("/health");
        var body = await response.Content.ReadAsStringAsync();
        var entry = JsonDocument.Parse(body).RootElement.GetProperty(MetaConversionsDiagnostics.HealthCheckName).Clone();
        return new Health(response.StatusCode, entry.GetProperty("status").GetString()!, entry.GetProperty("description").GetString()!, entry.GetProperty("data"), body);
    }

    // What a user's JSON writer would show: each entry's status, description and data.
    private static Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var entries = report.Entries.ToDictionary(
            e => e.Key,
            e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data });
        return context.Response.WriteAsync(JsonSerializer.Serialize(entries));
    }

    private sealed record Health(HttpStatusCode Code, string Status, string Description, JsonElement Data, string Body);
}
