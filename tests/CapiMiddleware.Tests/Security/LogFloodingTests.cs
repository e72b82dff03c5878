using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Tests.Security;

/// <summary>
/// Issue 14, item 5: a warning any request can cause is said at most once a minute, with a count, so a flood of such
/// requests cannot flood the log.
/// </summary>
public sealed class LogFloodingTests
{
    private const int Requests = 40;

    [Fact]
    public async Task A_garbage_carry_cookie_on_every_request_gives_one_warning_with_the_count()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);
        for (var i = 0; i < Requests; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/page");
            request.Headers.Add("Cookie", $"_capi_px=garbage{i}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
            (await app.Client.SendAsync(request)).EnsureSuccessStatusCode();
        }

        var warning = Assert.Single(app.Logs.WithEventId(14));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("1 unreadable so far", warning.Message);
    }

    [Fact]
    public async Task A_missing_inspector_policy_gives_one_error_not_one_per_request()
    {
        await using var app = await TestApp.StartAsync(o =>
        {
            o.Inspector.Enabled = true;
            o.Inspector.AuthorizationPolicy = "not-registered";
        });
        for (var i = 0; i < Requests; i++)
        {
            using var response = await app.Client.GetAsync("/_capi/inspector/events.json");
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        }

        var error = Assert.Single(app.Logs.WithEventId(61));
        Assert.Equal(LogLevel.Error, error.Level);
    }
}
