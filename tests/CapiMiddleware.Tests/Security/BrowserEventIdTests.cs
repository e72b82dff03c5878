using System.Net;
using System.Text.Json;
using CapiMiddleware.Events;
using CapiMiddleware.Inspector;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Security;

/// <summary>
/// Issue 14, item 1: the event ID a browser sends (<c>X-Meta-Event-Id</c>) is the visitor's to choose, so it never
/// replaces an ID the server set, and only endpoints that opt in take it at all.
/// </summary>
public sealed class BrowserEventIdTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await TestApp.StartAsync(o =>
        {
            o.Inspector.Enabled = true;
            o.Inspector.AuthorizationPolicy = "ops"; // records; these tests read the record directly
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_browser_event_id_never_replaces_the_order_number()
    {
        // The attack: another customer's order number in the header, to merge this purchase into theirs at Meta.
        var html = await PostAsync("/purchase?orderId=ord-mine", ("X-Meta-Event-Id", "ord-victim"));

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("ord-mine", sent.GetProperty("event_id").GetString());
        var pixel = Assert.Single(PageData.Events(html));
        Assert.Equal("ord-mine", pixel.EventId);
        Assert.Equal(EventIdSource.Server, Recorded("Purchase", "ord-mine").EventIdSource);
    }

    [Fact]
    public async Task A_resent_checkout_with_a_fresh_header_keeps_the_order_number_so_Meta_deduplicates_it()
    {
        await PostAsync("/purchase?orderId=ord-7", ("X-Meta-Event-Id", "fresh-1"));
        await PostAsync("/purchase?orderId=ord-7", ("X-Meta-Event-Id", "fresh-2"));

        var sent = await _app.Graph!.WaitForEventsAsync(2, Wait);
        Assert.All(sent, e => Assert.Equal("ord-7", e.GetProperty("event_id").GetString()));
    }

    [Fact]
    public async Task An_endpoint_that_does_not_opt_in_ignores_the_header_renders_the_pixel_copy_and_says_so_once()
    {
        var first = await PostJsonAsync("/signup", "chosen-by-visitor");
        var second = await PostJsonAsync("/signup", "chosen-again");

        Assert.Matches("^[A-Za-z0-9_-]{22}$", first);
        Assert.NotEqual(first, second);
        var sent = await _app.Graph!.WaitForEventsAsync(2, Wait);
        Assert.DoesNotContain(sent, e => e.GetProperty("event_id").GetString()!.StartsWith("chosen", StringComparison.Ordinal));
        Assert.Equal(EventIdSource.Generated, Recorded("CompleteRegistration", first).EventIdSource);
        Assert.Single(_app.Logs.WithEventId(82)); // throttled: one warning, not one per request
    }

    [Fact]
    public async Task An_endpoint_that_opts_in_takes_the_browser_id_and_the_inspector_says_the_browser_chose_it()
    {
        var id = await PostJsonAsync("/lead?outcome=json", "browser-chosen-1");

        Assert.Equal("browser-chosen-1", id);
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("browser-chosen-1", sent.GetProperty("event_id").GetString());
        Assert.Equal(EventIdSource.Browser, Recorded("Lead", id).EventIdSource);
        Assert.Equal(PixelHandover.Browser, Recorded("Lead", id).Pixel?.Handover);
    }

    [Fact]
    public async Task On_an_endpoint_that_opts_in_an_id_the_server_sets_still_wins()
    {
        var id = await PostJsonAsync("/lead-with-id?id=lead-srv-9", "browser-chosen-2");

        Assert.Equal("lead-srv-9", id);
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("lead-srv-9", sent.GetProperty("event_id").GetString());
        Assert.Equal(EventIdSource.Server, Recorded("Lead", id).EventIdSource);
        Assert.Single(_app.Logs.WithEventId(83));
    }

    [Fact]
    public async Task Without_a_header_the_inspector_says_the_library_generated_the_id()
    {
        var id = await PostJsonAsync("/lead?outcome=json", browserEventId: null);

        await _app.Graph!.WaitForEventsAsync(1, Wait);
        Assert.Equal(EventIdSource.Generated, Recorded("Lead", id).EventIdSource);
    }

    [Fact]
    public async Task The_same_conversion_on_the_controller_and_the_action_is_one_event()
    {
        using var response = await _app.Client.PostAsync("/subscription", TestApp.Form());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("eventId").GetString();

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(id, sent.GetProperty("event_id").GetString());
        await _app.StopAsync(); // drains the queue: a second event would have reached Graph by now
        Assert.Single(_app.Graph.AcceptedEvents);
    }

    private InspectedEvent Recorded(string name, string id) =>
        Assert.Single(_app.Services.GetRequiredService<RecentEvents>().Since(0).Events, e => e.EventName == name && e.EventId == id);

    private async Task<string> PostAsync(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = TestApp.Form() };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await _app.Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {response.StatusCode}:\n{_app.Logs.AllText}");
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<string> PostJsonAsync(string path, string? browserEventId)
    {
        var body = browserEventId is null ? await PostAsync(path) : await PostAsync(path, ("X-Meta-Event-Id", browserEventId));
        return JsonDocument.Parse(body).RootElement.GetProperty("eventId").GetString()!;
    }
}
