using System.Net;
using System.Text;
using System.Text.Json;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Context;

/// <summary>
/// Issue 15, part 2: a page whose HTML a cache shares between visitors carries no per-visitor state; each visitor's
/// snippet reports the declared conversion with its own event ID through <c>POST /_capi/events</c>, and the server
/// builds the event from that visitor's request.
/// </summary>
public sealed class SharedPagesTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    internal static Task<TestApp> StartAsync(Action<MetaConversionsOptions>? configure = null) =>
        TestApp.StartAsync(
            configure,
            services: s => s.AddOutputCache().AddSingleton<SharedPagesController.Renders>(),
            beforeLibrary: a => a.UseOutputCache());

    [Theory]
    [InlineData("/shared/output-cache")]
    [InlineData("/shared/public")]
    [InlineData("/shared/cdn")]
    public async Task A_shared_page_declares_its_conversion_without_event_id_consent_or_user_data_and_reports_nothing_itself(string path)
    {
        var html = await GetAsync(path, "_fbp=fb.1.1700000000000.111");
        var block = PageData.Read(html);

        Assert.True(block.GetProperty("shared").GetBoolean());
        Assert.False(block.TryGetProperty("consent", out _));
        Assert.Empty(block.GetProperty("events").EnumerateArray());
        var declared = Assert.Single(block.GetProperty("declared").EnumerateArray());
        Assert.Equal(("track", "ViewContent"), (declared.GetProperty("method").GetString(), declared.GetProperty("name").GetString()));
        Assert.Equal(12.5m, declared.GetProperty("data").GetProperty("value").GetDecimal());
        Assert.Equal("/_capi/events", block.GetProperty("collect").GetString());
        Assert.DoesNotContain("server-chosen", html);
        Assert.DoesNotContain("first.visitor", html);
        Assert.DoesNotContain("1700000000000.111", html);

        await _app.StopAsync(); // drains the queue: a server event from the render would have reached Graph
        Assert.Empty(_app.Graph!.AcceptedEvents);
    }

    [Fact]
    public async Task Three_visitors_of_an_output_cached_page_give_three_events_each_with_its_own_id_and_fbp_and_the_page_stays_cached()
    {
        var renders = _app.Services.GetRequiredService<SharedPagesController.Renders>();
        var pages = new List<string>();
        foreach (var fbp in new[] { "fb.1.1700000000000.111", "fb.1.1700000000000.222", "fb.1.1700000000000.333" })
        {
            var html = await GetAsync("/shared/output-cache", $"_fbp={fbp}");
            pages.Add(html);
            var token = PageData.Read(html).GetProperty("declared")[0].GetProperty("token").GetString()!;
            var reply = await CollectAsync("/shared/output-cache", $"_fbp={fbp}", ("id-" + fbp[^3..], token));
            Assert.True(reply.GetProperty("consent").GetBoolean());
            Assert.Equal("id-" + fbp[^3..], Assert.Single(reply.GetProperty("accepted").EnumerateArray()).GetString());
        }

        Assert.Equal(1, renders.Count); // rendered once, served from the cache twice
        Assert.All(pages, p => Assert.Equal(pages[0], p));
        var sent = await _app.Graph!.WaitForEventsAsync(3, Wait);
        Assert.Equal(
            [("id-111", "fb.1.1700000000000.111"), ("id-222", "fb.1.1700000000000.222"), ("id-333", "fb.1.1700000000000.333")],
            sent.Select(e => (e.GetProperty("event_id").GetString(), e.GetProperty("user_data").GetProperty("fbp").GetString())).Order());
        Assert.All(sent, e =>
        {
            Assert.Equal("ViewContent", e.GetProperty("event_name").GetString());
            Assert.Equal(new Uri(_app.BaseUrl, "/shared/output-cache").ToString(), e.GetProperty("event_source_url").GetString());
            Assert.Equal(12.5m, e.GetProperty("custom_data").GetProperty("value").GetDecimal());
            Assert.False(e.GetProperty("user_data").TryGetProperty("em", out _)); // the first visitor's email is never anyone's
        });
    }

    [Fact]
    public async Task A_forged_or_foreign_post_reports_nothing()
    {
        var token = PageData.Read(await GetAsync("/shared/cdn", null)).GetProperty("declared")[0].GetProperty("token").GetString()!;
        var altered = token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA");

        Assert.Empty((await CollectAsync("/shared/cdn", null, ("e1", altered))).GetProperty("accepted").EnumerateArray());
        Assert.Empty((await CollectAsync("/elsewhere", null, ("e2", token))).GetProperty("accepted").EnumerateArray()); // another page's token
        using (var crossSite = await PostCollectAsync("/shared/cdn", null, "cross-site", """{"v":1,"events":[{"id":"e3","token":"x"}]}"""))
        {
            Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);
        }

        foreach (var body in new[] { "not json", """{"events":"x"}""", """{"events":[{"id":"<script>","token":"t"}]}""",
            "{\"events\":[" + string.Join(",", Enumerable.Range(0, 11).Select(i => $"{{\"id\":\"i{i}\",\"token\":\"t\"}}")) + "]}" })
        {
            using var bad = await PostCollectAsync("/shared/cdn", null, "same-origin", body);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        await _app.StopAsync();
        Assert.Empty(_app.Graph!.AcceptedEvents);
    }

    [Fact]
    public async Task Without_this_visitor_s_consent_nothing_is_reported_and_the_snippet_is_told()
    {
        await using var app = await StartAsync(o => o.ConsentResolver = _ => false);
        var html = await app.Client.GetStringAsync("/shared/cdn");
        var token = PageData.Read(html).GetProperty("declared")[0].GetProperty("token").GetString()!;
        using var request = Collect(app, "/shared/cdn", null, "same-origin", JsonSerializer.Serialize(new { v = 1, events = new[] { new { id = "n1", token } } }));
        using var response = await app.Client.SendAsync(request);
        var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.False(reply.GetProperty("consent").GetBoolean());
        Assert.Empty(reply.GetProperty("accepted").EnumerateArray());
        await app.StopAsync();
        Assert.Empty(app.Graph!.AcceptedEvents);
    }

    private async Task<string> GetAsync(string path, string? cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        using var response = await _app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<JsonElement> CollectAsync(string page, string? cookie, params (string Id, string Token)[] events)
    {
        var body = JsonSerializer.Serialize(new { v = 1, events = events.Select(e => new { id = e.Id, token = e.Token }) });
        using var response = await PostCollectAsync(page, cookie, "same-origin", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private Task<HttpResponseMessage> PostCollectAsync(string page, string? cookie, string site, string body) =>
        _app.Client.SendAsync(Collect(_app, page, cookie, site, body));

    private static HttpRequestMessage Collect(TestApp app, string page, string? cookie, string site, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/_capi/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Sec-Fetch-Site", site);
        request.Headers.Referrer = new Uri(app.BaseUrl, page);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        return request;
    }
}
