using System.Net;
using System.Text.Json;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Tests.Context;

/// <summary>
/// <c>HttpContext.MetaConversion("Lead")</c> with nothing declared declares the event in code: reported when the
/// response succeeds, in MVC actions, Razor Pages, minimal API handlers and plain middleware, with the Pixel's copy on
/// the rendered page or across the redirect.
/// </summary>
public sealed class ImperativeConversionTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(endpoints: app =>
    {
        app.MapPost("/api/imperative", (HttpContext http, string? outcome) =>
        {
            var conversion = http.MetaConversion(MetaEventNames.Lead).WithCustomProperty("source", "minimal");
            return outcome switch
            {
                "redirect" => Results.Redirect("/page"),
                "400" => Results.BadRequest(),
                _ => Results.Ok(new { eventId = conversion.EventId }),
            };
        });

        // Plain middleware, no endpoint: the status it answers with decides.
        app.Map("/mw/lead", branch => branch.Run(async http =>
        {
            var conversion = http.MetaConversion(MetaEventNames.Lead).WithCustomProperty("source", "middleware");
            switch (http.Request.Query["outcome"].ToString())
            {
                case "redirect":
                    http.Response.Redirect("/page");
                    break;
                case "500":
                    http.Response.StatusCode = 500;
                    break;
                case "throw":
                    throw new InvalidOperationException("The middleware failed.");
                default:
                    await http.Response.WriteAsJsonAsync(new { eventId = conversion.EventId });
                    break;
            }
        }));

        // Declared after the response has started: only the server's copy can still be sent.
        app.Map("/mw/after-start", branch => branch.Run(async http =>
        {
            await http.Response.WriteAsync("started");
            await http.Response.Body.FlushAsync();
            http.MetaConversion(MetaEventNames.Lead).UseEventId("after-start-1");
        }));
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task In_an_mvc_action_the_rendered_view_and_the_server_get_one_id()
    {
        var pixel = Assert.Single(PageData.Events(await PostOkAsync("/imperative?outcome=view", ("email", "Code@Example.com"))));
        Assert.Equal(("track", "Lead"), (pixel.Method, pixel.Name));

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(pixel.EventId, sent.GetProperty("event_id").GetString());
        Assert.Equal(64, sent.GetProperty("user_data").GetProperty("em")[0].GetString()!.Length);
    }

    [Theory]
    [InlineData("/imperative?outcome=redirect")]
    [InlineData("/api/imperative?outcome=redirect")]
    [InlineData("/mw/lead?outcome=redirect")]
    [InlineData("/Razor/Imperative?outcome=redirect")]
    public async Task After_a_redirect_the_next_page_hands_the_pixel_the_event_once(string path)
    {
        using var response = await _app.Client.PostAsync(path, Form());
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        var pixel = Assert.Single(PageData.Events(await _app.Client.GetStringAsync("/page")));
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal((pixel.Name, pixel.EventId), ("Lead", sent.GetProperty("event_id").GetString()));
        Assert.Empty(PageData.Events(await _app.Client.GetStringAsync("/page")));
    }

    [Theory]
    [InlineData("/imperative?outcome=json")]
    [InlineData("/api/imperative")]
    [InlineData("/mw/lead")]
    public async Task A_successful_answer_without_a_page_sends_the_server_copy_with_the_id_it_returned(string path)
    {
        var eventId = JsonDocument.Parse(await PostOkAsync(path)).RootElement.GetProperty("eventId").GetString();

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(("Lead", eventId), (sent.GetProperty("event_name").GetString(), sent.GetProperty("event_id").GetString()));
    }

    [Theory]
    [InlineData("/imperative?outcome=bad-request", HttpStatusCode.BadRequest)]
    [InlineData("/imperative?outcome=throw", HttpStatusCode.InternalServerError)]
    [InlineData("/api/imperative?outcome=400", HttpStatusCode.BadRequest)]
    [InlineData("/mw/lead?outcome=500", HttpStatusCode.InternalServerError)]
    [InlineData("/mw/lead?outcome=throw", HttpStatusCode.InternalServerError)]
    [InlineData("/Razor/Imperative?outcome=bad-request", HttpStatusCode.BadRequest)]
    public async Task A_failed_answer_reports_nothing_and_does_not_throw(string path, HttpStatusCode expected)
    {
        using var failed = await _app.Client.PostAsync(path, Form());
        Assert.Equal(expected, failed.StatusCode);

        // A later success proves the pipeline ran; only it arrives.
        var eventId = JsonDocument.Parse(await PostOkAsync("/api/imperative")).RootElement.GetProperty("eventId").GetString();
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(eventId, sent.GetProperty("event_id").GetString());
        await _app.WaitForOutboxEmptyAsync();
        Assert.Single(_app.Graph.AcceptedEvents);
        Assert.Empty(_app.Logs.WithEventId(15)); // no failed commit
    }

    [Fact]
    public async Task In_a_razor_page_handler_the_page_gets_the_pixel_copy_and_a_declined_signup_reports_nothing()
    {
        Assert.Empty(PageData.Events(await PostOkAsync("/Razor/Imperative?outcome=declined")));

        var pixel = Assert.Single(PageData.Events(await PostOkAsync("/Razor/Imperative", ("email", "page@example.com"))));
        Assert.Equal(("Lead", "imperative"), (pixel.Name, pixel.Data.GetProperty("page").GetString()));
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(pixel.EventId, sent.GetProperty("event_id").GetString());
        await _app.WaitForOutboxEmptyAsync();
        Assert.Single(_app.Graph.AcceptedEvents);
    }

    [Fact]
    public async Task Declared_while_the_page_renders_after_the_tag_helper_the_next_page_gets_the_pixel_copy()
    {
        var html = await _app.Client.GetStringAsync("/Razor/Imperative?late=1");
        Assert.Empty(PageData.Events(html));

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("Contact", sent.GetProperty("event_name").GetString());
        var pixel = Assert.Single(PageData.Events(await _app.Client.GetStringAsync("/page")));
        Assert.Equal(("Contact", sent.GetProperty("event_id").GetString()), (pixel.Name, pixel.EventId));
    }

    [Fact]
    public async Task Declared_after_the_response_started_the_server_copy_is_still_sent()
    {
        Assert.Equal("started", await _app.Client.GetStringAsync("/mw/after-start"));

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(("Lead", "after-start-1"), (sent.GetProperty("event_name").GetString(), sent.GetProperty("event_id").GetString()));
        Assert.Empty(PageData.Events(await _app.Client.GetStringAsync("/page")));
    }

    [Fact]
    public async Task A_name_that_differs_from_a_declared_one_only_in_case_is_its_own_event_and_a_warning_says_so()
    {
        var events = PageData.Events(await PostOkAsync("/lead-case"));
        Assert.Equal(["Lead", "lead"], events.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["track", "trackCustom"], events.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => e.Method));

        var warning = Assert.Single(_app.Logs.WithEventId(80));
        Assert.Contains("\"lead\"", warning.Message, StringComparison.Ordinal);
        Assert.Contains("\"Lead\"", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_name_and_nothing_declared_the_message_says_how_to_fix_it()
    {
        var message = await _app.Client.GetStringAsync("/undeclared");
        Assert.Contains("HttpContext.MetaConversion(\"EventName\")", message, StringComparison.Ordinal);
    }

    private Task<string> PostOkAsync(string path, params (string Name, string Value)[] fields) => _app.PostOkAsync(path, fields);

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) => TestApp.Form(fields);
}
