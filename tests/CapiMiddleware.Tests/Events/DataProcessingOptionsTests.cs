using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Events;

/// <summary>
/// Limited Data Use on the wire at the fake Graph API (which checks the fields as Meta documents them) and in the
/// page data the snippet hands to <c>fbq('dataProcessingOptions', ...)</c>: global, per web event, per offline event.
/// </summary>
public sealed class DataProcessingOptionsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Global_limited_data_use_is_on_every_server_event_and_in_the_page_for_the_pixel()
    {
        await using var app = await TestApp.StartAsync(o => o.LimitedDataUse = new() { Enabled = true, Country = 1, State = 1000 });

        var html = await PostAsync(app, "/lead?outcome=view");

        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        AssertProcessing(sent, """["LDU"]""", 1, 1000);
        var page = PageData.Read(html);
        Assert.Equal("""{"options":["LDU"],"country":1,"state":1000}""", page.GetProperty("dataProcessingOptions").GetRawText());
        Assert.False(page.GetProperty("events")[0].TryGetProperty("dataProcessingOptions", out _), "the page's options apply");
    }

    [Fact]
    public async Task Without_limited_data_use_nothing_is_said_on_either_side()
    {
        await using var app = await TestApp.StartAsync();

        var html = await PostAsync(app, "/lead?outcome=view");

        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.False(sent.TryGetProperty("data_processing_options", out _));
        Assert.False(sent.TryGetProperty("data_processing_options_country", out _));
        Assert.False(PageData.Read(html).TryGetProperty("dataProcessingOptions", out _));
    }

    [Fact]
    public async Task An_event_s_own_options_win_over_the_global_ones_for_the_server_and_the_pixel()
    {
        await using var app = await TestApp.StartAsync(
            o => o.LimitedDataUse = new() { Enabled = true },
            endpoints: web =>
            {
                web.MapPost("/signup/{state}", (HttpContext http, string state) =>
                {
                    http.MetaConversion().WithDataProcessingOptions(
                        state == "none" ? DataProcessingOptions.None : DataProcessingOptions.LimitedDataUse(1, int.Parse(state, System.Globalization.CultureInfo.InvariantCulture)));
                    return Results.Redirect("/page");
                }).WithMetaConversion("Lead");
            });

        using (var none = await app.Client.PostAsync("/signup/none", null))
        {
            Assert.Equal(HttpStatusCode.Redirect, none.StatusCode);
        }

        var page = PageData.Read(await app.Client.GetStringAsync("/page"));
        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, Wait));
        Assert.Equal("[]", sent.GetProperty("data_processing_options").GetRawText());
        Assert.False(sent.TryGetProperty("data_processing_options_country", out _));
        Assert.False(sent.TryGetProperty("data_processing_options_state", out _));
        var pixel = page.GetProperty("events")[0];
        Assert.Equal(sent.GetProperty("event_id").GetString(), pixel.GetProperty("eventId").GetString());
        Assert.Equal("""{"options":[]}""", pixel.GetProperty("dataProcessingOptions").GetRawText());
        Assert.Equal("""{"options":["LDU"],"country":0,"state":0}""", page.GetProperty("dataProcessingOptions").GetRawText());

        (await app.Client.PostAsync("/signup/1000", null)).Dispose();
        var california = PageData.Read(await app.Client.GetStringAsync("/page")).GetProperty("events")[0];
        var second = (await app.Graph.WaitForEventsAsync(2, Wait))[1];
        AssertProcessing(second, """["LDU"]""", 1, 1000);
        Assert.Equal("""{"options":["LDU"],"country":1,"state":1000}""", california.GetProperty("dataProcessingOptions").GetRawText());
    }

    [Fact]
    public async Task Offline_events_follow_the_global_options_unless_they_set_their_own()
    {
        await using var app = await TestApp.StartAsync(o => o.LimitedDataUse = new() { Enabled = true, Country = 1, State = 1000 });
        var queue = app.Services.GetRequiredService<IConversionQueue>();

        Assert.True(await queue.EnqueueAsync(SampleEvents.Purchase("global") with { ActionSource = ActionSource.PhoneCall }));
        Assert.True(await queue.EnqueueAsync(SampleEvents.Purchase("geolocated") with { DataProcessingOptions = DataProcessingOptions.LimitedDataUse() }));
        Assert.True(await queue.EnqueueAsync(SampleEvents.Purchase("unlimited") with { DataProcessingOptions = DataProcessingOptions.None }));

        var sent = (await app.Graph!.WaitForEventsAsync(3, Wait)).ToDictionary(e => e.GetProperty("event_id").GetString()!);
        AssertProcessing(sent["global"], """["LDU"]""", 1, 1000);
        AssertProcessing(sent["geolocated"], """["LDU"]""", 0, 0);
        Assert.Equal("[]", sent["unlimited"].GetProperty("data_processing_options").GetRawText());
    }

    [Theory]
    [InlineData(840, 0)]
    [InlineData(0, 1000)]
    [InlineData(1, -1)]
    public void A_location_Meta_does_not_know_is_refused_in_code(int country, int state) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DataProcessingOptions.LimitedDataUse(country, state));

    [Theory]
    [InlineData("""["LDU"]""", null, null)] // LDU needs a location, 0/0 at least
    [InlineData("""["LDX"]""", 0, 0)]
    [InlineData("\"LDU\"", 0, 0)]
    [InlineData("""["LDU"]""", 2, 0)]
    [InlineData("""["LDU"]""", 0, 1000)]
    public async Task The_fake_graph_api_refuses_what_Meta_would(string options, int? country, int? state)
    {
        await using var graph = await FakeGraphApiServer.StartAsync();
        var wire = JsonNode.Parse(Encoding.UTF8.GetString(CapiMiddleware.Events.GraphEventWriter.Serialize(
            CapiMiddleware.Events.GraphEventWriter.TryCreate(SampleEvents.Purchase("p-1"), "p-1", DateTimeOffset.UtcNow, out _)!)))!.AsObject();
        wire["data_processing_options"] = JsonNode.Parse(options);
        if (country is not null)
        {
            wire["data_processing_options_country"] = country;
        }

        if (state is not null)
        {
            wire["data_processing_options_state"] = state;
        }

        using var client = new HttpClient { BaseAddress = graph.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v24.0/1234567890/events")
        {
            Content = new StringContent(new JsonObject { ["data"] = new JsonArray(wire) }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", graph.Options.ExpectedAccessToken);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Invalid Data Processing Options", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<string> PostAsync(TestApp app, string path)
    {
        using var response = await app.Client.PostAsync(path, new FormUrlEncodedContent([new("email", "someone@example.com")]));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    private static void AssertProcessing(JsonElement sent, string options, int country, int state)
    {
        Assert.Equal(options, sent.GetProperty("data_processing_options").GetRawText());
        Assert.Equal(country, sent.GetProperty("data_processing_options_country").GetInt32());
        Assert.Equal(state, sent.GetProperty("data_processing_options_state").GetInt32());
    }
}
