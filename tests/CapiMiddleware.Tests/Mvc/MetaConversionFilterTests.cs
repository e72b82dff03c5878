using System.Net;
using System.Text.Json;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Mvc;

public sealed class MetaConversionFilterTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_successful_action_sends_one_event_whose_id_the_page_hands_the_pixel()
    {
        var html = await PostAsync("/lead?outcome=view", ("email", "Someone@Example.com"));

        var pixel = Assert.Single(PageData.Events(html));
        Assert.Equal(("track", "Lead"), (pixel.Method, pixel.Name));

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("Lead", sent.GetProperty("event_name").GetString());
        Assert.Equal(pixel.EventId, sent.GetProperty("event_id").GetString());
        Assert.Equal("website", sent.GetProperty("action_source").GetString());
        Assert.Equal(TestApp.UserAgent, sent.GetProperty("user_data").GetProperty("client_user_agent").GetString());
        // sha256("someone@example.com"), computed with sha256sum: trimmed, lowercased, hashed once.
        Assert.Equal("72497f475e4f76d0b28f57c73a084ece576d170874eba3ee2609d9afe4b71aab", sent.GetProperty("user_data").GetProperty("em")[0].GetString());
    }

    [Fact]
    public async Task Random_event_ids_are_long_url_safe_and_unique()
    {
        var first = Assert.Single(PageData.Events(await PostAsync("/lead?outcome=view"))).EventId;
        var second = Assert.Single(PageData.Events(await PostAsync("/lead?outcome=view"))).EventId;

        Assert.NotEqual(first, second);
        Assert.All(new[] { first, second }, id =>
        {
            Assert.True(id.Length >= 22, id);
            Assert.Matches("^[A-Za-z0-9_-]+$", id);
        });
    }

    [Theory]
    [InlineData("bad-request", HttpStatusCode.BadRequest)]
    [InlineData("not-found", HttpStatusCode.NotFound)]
    [InlineData("status-500", HttpStatusCode.InternalServerError)]
    [InlineData("throw", HttpStatusCode.InternalServerError)]
    [InlineData("invalid-model", HttpStatusCode.OK)]
    [InlineData("cancel", HttpStatusCode.OK)]
    public async Task A_failed_or_cancelled_action_sends_nothing_and_hands_the_page_nothing(string outcome, HttpStatusCode expected)
    {
        using var response = await _app.Client.PostAsync($"/lead?outcome={outcome}", Form());
        Assert.Equal(expected, response.StatusCode);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            Assert.Empty(PageData.Events(await response.Content.ReadAsStringAsync()));
        }

        // A later successful event proves the pipeline ran; only it arrives.
        var later = Assert.Single(PageData.Events(await PostAsync("/lead?outcome=view")));
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(later.EventId, sent.GetProperty("event_id").GetString());
        await _app.WaitForOutboxEmptyAsync();
        Assert.Single(_app.Graph.AcceptedEvents);
    }

    [Fact]
    public async Task An_empty_ok_result_counts_as_success()
    {
        using var response = await _app.Client.PostAsync("/lead?outcome=empty", Form());
        response.EnsureSuccessStatusCode();
        Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
    }

    [Fact]
    public async Task After_a_redirect_the_next_page_hands_the_pixel_the_event_exactly_once()
    {
        using var response = await _app.Client.PostAsync("/lead?outcome=redirect", Form());
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain("meta-capi-data", await response.Content.ReadAsStringAsync());

        var next = await _app.Client.GetStringAsync("/page");
        var pixel = Assert.Single(PageData.Events(next));
        Assert.Equal("Lead", pixel.Name);

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal(pixel.EventId, sent.GetProperty("event_id").GetString());

        // The carried event is consumed: a reload shows nothing.
        Assert.Empty(PageData.Events(await _app.Client.GetStringAsync("/page")));
    }

    [Fact]
    public async Task The_carried_events_cannot_be_forged_by_the_visitor()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/page");
        request.Headers.Add("Cookie", "_capi_px=eyJtZXRob2QiOiJ0cmFjayJ9");
        using var client = _app.CreateClient();
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(PageData.Events(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task An_event_id_sent_by_the_snippet_is_used_and_the_page_gets_no_second_pixel_copy()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=json") { Content = Form() };
        request.Headers.Add("X-Meta-Event-Id", "browser-id_123");
        using var response = await _app.Client.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("browser-id_123", body.GetProperty("eventId").GetString());
        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("browser-id_123", sent.GetProperty("event_id").GetString());

        // Not carried to the next page either: the browser already fired its copy.
        Assert.Empty(PageData.Events(await _app.Client.GetStringAsync("/page")));
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("a\"b")]
    [InlineData("")]
    public async Task An_invalid_event_id_header_is_ignored(string header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=json") { Content = Form() };
        request.Headers.TryAddWithoutValidation("X-Meta-Event-Id", header);
        using var response = await _app.Client.SendAsync(request);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("eventId").GetString();

        Assert.NotEqual(header, id);
        Assert.Matches("^[A-Za-z0-9_-]{22}$", id);
    }

    [Fact]
    public async Task An_event_id_header_longer_than_64_characters_is_ignored()
    {
        var header = new string('a', 65);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=json") { Content = Form() };
        request.Headers.Add("X-Meta-Event-Id", header);
        using var response = await _app.Client.SendAsync(request);

        Assert.DoesNotContain(header, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_order_number_is_the_event_id_on_both_sides_with_value_and_contents()
    {
        var html = await PostAsync("/purchase?orderId=ord-42&value=19.90&currency=eur");
        var pixel = Assert.Single(PageData.Events(html));
        Assert.Equal(("track", "Purchase", "ord-42"), (pixel.Method, pixel.Name, pixel.EventId));
        Assert.Equal(19.90m, pixel.Data.GetProperty("value").GetDecimal());
        Assert.Equal("EUR", pixel.Data.GetProperty("currency").GetString());

        var sent = Assert.Single(await _app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("ord-42", sent.GetProperty("event_id").GetString());
        var custom = sent.GetProperty("custom_data");
        Assert.Equal(19.90m, custom.GetProperty("value").GetDecimal());
        Assert.Equal("EUR", custom.GetProperty("currency").GetString());
        Assert.Equal("ord-42", custom.GetProperty("order_id").GetString());
        Assert.Equal("sku-1", custom.GetProperty("content_ids")[0].GetString());
        Assert.Equal(2, custom.GetProperty("num_items").GetInt32());
        Assert.Equal("product", custom.GetProperty("content_type").GetString());
        Assert.Equal(pixel.Data.GetRawText(), custom.GetRawText());
    }

    [Fact]
    public async Task A_purchase_meta_would_reject_is_not_queued_and_says_why()
    {
        using var response = await _app.Client.PostAsync("/purchase-without-value", Form());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(PageData.Events(await response.Content.ReadAsStringAsync()));
        Assert.Contains(_app.Logs.WithEventId(3), l => l.Message.Contains("value and a currency", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_declared_events_are_both_sent_and_custom_names_use_track_custom()
    {
        var events = PageData.Events(await PostAsync("/two"));
        Assert.Equal(["Lead", "Subscribe"], events.Select(e => e.Name).Order());
        Assert.All(events, e => Assert.Equal("track", e.Method));
        var sent = await _app.Graph!.WaitForEventsAsync(2, Wait);
        Assert.Equal(events.Select(e => e.EventId).Order(), sent.Select(e => e.GetProperty("event_id").GetString()!).Order());

        var custom = Assert.Single(PageData.Events(await PostAsync("/custom")));
        Assert.Equal(("trackCustom", "NewsletterSignup"), (custom.Method, custom.Name));
    }

    [Fact]
    public async Task Asking_for_an_undeclared_conversion_explains_the_fix()
    {
        var message = await _app.Client.GetStringAsync("/undeclared");
        Assert.Contains("[MetaConversion(\"EventName\")]", message);
    }

    [Fact]
    public async Task Page_data_cannot_be_broken_out_of_by_event_data()
    {
        var html = await PostAsync("/lead?outcome=view", ("note", "</script><script>alert(1)</script>"));

        Assert.DoesNotContain("<script>alert(1)", html);
        var pixel = Assert.Single(PageData.Events(html));
        Assert.Equal("</script><script>alert(1)</script>", pixel.Data.GetProperty("note").GetString());
    }

    private Task<string> PostAsync(string path, params (string Name, string Value)[] fields) => _app.PostOkAsync(path, fields);

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) => TestApp.Form(fields);
}
