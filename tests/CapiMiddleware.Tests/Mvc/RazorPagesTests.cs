using System.Net;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Mvc;

/// <summary>
/// Razor Pages: <c>[MetaConversion]</c> on a page model applies to its POST handlers, on a handler method to that
/// handler; success means what it means for actions, and the Pixel's copy reaches the page or follows the redirect.
/// </summary>
public sealed class RazorPagesTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task On_the_page_model_a_post_reports_the_event_to_the_page_and_the_server_with_one_id()
    {
        var html = await PostAsync("/Razor/ClassLevel", ("email", "Page@Example.com"));

        var pixel = Assert.Single(PageData.Events(html));
        Assert.Equal(("track", "Lead"), (pixel.Method, pixel.Name));
        Assert.Equal("class-level", pixel.Data.GetProperty("page").GetString());

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(("Lead", pixel.EventId), (sent.GetProperty("event_name").GetString(), sent.GetProperty("event_id").GetString()));
        Assert.Equal("website", sent.GetProperty("action_source").GetString());
        Assert.Equal(64, sent.GetProperty("user_data").GetProperty("em")[0].GetString()!.Length);
    }

    [Fact]
    public async Task On_the_page_model_showing_the_page_reports_nothing()
    {
        Assert.Empty(PageData.Events(await _app.Client.GetStringAsync("/Razor/ClassLevel")));

        await AssertOnlyTheNextLeadArrivesAsync();
    }

    [Theory]
    [InlineData("bad-request", HttpStatusCode.BadRequest)]
    [InlineData("status-404", HttpStatusCode.NotFound)]
    [InlineData("invalid-model", HttpStatusCode.OK)]
    [InlineData("throw", HttpStatusCode.InternalServerError)]
    public async Task A_failed_handler_reports_nothing(string outcome, HttpStatusCode expected)
    {
        using var response = await _app.Client.PostAsync($"/Razor/ClassLevel?outcome={outcome}", Form());
        Assert.Equal(expected, response.StatusCode);
        if (expected is HttpStatusCode.OK or HttpStatusCode.NotFound)
        {
            Assert.Empty(PageData.Events(await response.Content.ReadAsStringAsync()));
        }

        await AssertOnlyTheNextLeadArrivesAsync();
    }

    [Theory]
    [InlineData("redirect", "/page")]
    [InlineData("redirect-to-page", "/Razor/ClassLevel")]
    public async Task After_a_redirect_the_next_page_hands_the_pixel_the_event_once(string outcome, string next)
    {
        using var response = await _app.Client.PostAsync($"/Razor/ClassLevel?outcome={outcome}", Form());
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        var pixel = Assert.Single(PageData.Events(await _app.Client.GetStringAsync(next)));
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(pixel.EventId, sent.GetProperty("event_id").GetString());
        Assert.Empty(PageData.Events(await _app.Client.GetStringAsync(next)));
    }

    [Fact]
    public async Task On_handler_methods_each_handler_reports_its_own_event_get_included()
    {
        var view = Assert.Single(PageData.Events(await _app.Client.GetStringAsync("/Razor/HandlerLevel")));
        Assert.Equal(("ViewContent", "handler-level"), (view.Name, view.Data.GetProperty("content_name").GetString()));

        var subscribe = Assert.Single(PageData.Events(await PostAsync("/Razor/HandlerLevel?handler=Subscribe")));
        Assert.Equal(("Subscribe", 9.5m), (subscribe.Name, subscribe.Data.GetProperty("value").GetDecimal()));

        Assert.Empty(PageData.Events(await PostAsync("/Razor/HandlerLevel?handler=Unsubscribe")));

        var sent = await _app.Graph!.WaitForEventsAsync(2, Wait);
        Assert.Equal(new[] { view.EventId, subscribe.EventId }.Order(), sent.Select(e => e.GetProperty("event_id").GetString()!).Order());
        await _app.WaitForOutboxEmptyAsync();
        Assert.Equal(2, _app.Graph.AcceptedEvents.Count);
    }

    private async Task AssertOnlyTheNextLeadArrivesAsync()
    {
        var later = Assert.Single(PageData.Events(await PostAsync("/Razor/ClassLevel")));
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(later.EventId, sent.GetProperty("event_id").GetString());
        await _app.WaitForOutboxEmptyAsync();
        Assert.Single(_app.Graph.AcceptedEvents);
    }

    private Task<string> PostAsync(string path, params (string Name, string Value)[] fields) => _app.PostOkAsync(path, fields);

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) => TestApp.Form(fields);
}
