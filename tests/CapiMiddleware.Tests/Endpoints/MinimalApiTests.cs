using System.Net;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Tests.Endpoints;

/// <summary>Minimal APIs: <c>.WithMetaConversion("Lead")</c> does what the attribute does for MVC.</summary>
public sealed class MinimalApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(endpoints: app =>
    {
        app.MapPost("/api/lead", (HttpContext http, string? email, string? fail) =>
        {
            http.MetaConversion().WithUser(u => u.Email = email).WithCustomProperty("source", "minimal");
            return fail switch
            {
                "400" => Results.BadRequest(),
                "throw" => throw new InvalidOperationException("handler failed"),
                "redirect" => Results.Redirect("/page"),
                _ => Results.Ok(new { eventId = http.MetaConversion().EventId }),
            };
        }).WithMetaConversion(MetaEventNames.Lead);
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_successful_endpoint_sends_the_event_with_the_id_it_returned()
    {
        using var response = await _app.Client.PostAsync("/api/lead?email=Minimal@Example.com", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var eventId = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("eventId").GetString();

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(("Lead", eventId), (sent.GetProperty("event_name").GetString(), sent.GetProperty("event_id").GetString()));
        Assert.Equal("minimal", sent.GetProperty("custom_data").GetProperty("source").GetString());
        Assert.Equal(64, sent.GetProperty("user_data").GetProperty("em")[0].GetString()!.Length);
    }

    [Theory]
    [InlineData("400")]
    [InlineData("throw")]
    public async Task A_failed_endpoint_sends_nothing(string fail)
    {
        using var failed = await _app.Client.PostAsync($"/api/lead?fail={fail}", null);
        Assert.False(failed.IsSuccessStatusCode);

        using var ok = await _app.Client.PostAsync("/api/lead", null);
        var eventId = System.Text.Json.JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement.GetProperty("eventId").GetString();
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(eventId, sent.GetProperty("event_id").GetString());
        await _app.WaitForOutboxEmptyAsync();
        Assert.Single(_app.Graph.AcceptedEvents);
    }

    [Fact]
    public async Task After_a_redirect_the_next_page_hands_the_pixel_the_event_once()
    {
        using var response = await _app.Client.PostAsync("/api/lead?fail=redirect", null);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        var pixel = Assert.Single(PageData.Events(await _app.Client.GetStringAsync("/page")));
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(pixel.EventId, sent.GetProperty("event_id").GetString());
        Assert.Empty(PageData.Events(await _app.Client.GetStringAsync("/page")));
    }
}
