using System.Text.Json;
using System.Text.Json.Nodes;
using CapiMiddleware.Cookies;
using CapiMiddleware.Events;

namespace CapiMiddleware.Tests.Client;

/// <summary>
/// The real snippet, in Node, on data blocks serialized by the C# types: consent kept in step with
/// <c>fbq('consent', ...)</c>, Limited Data Use before <c>init</c> and around an event, crawlers left alone.
/// </summary>
public sealed class ConsentSnippetTests(SnippetHost host) : IClassFixture<SnippetHost>
{
    private const string FromAnAd = "https://shop.example.com/products/1?fbclid=AbC-123_xyz";

    [Fact]
    public async Task Without_consent_the_pixel_is_revoked_before_init_with_LDU_and_no_cookie_is_written()
    {
        var json = Serialize(new PixelPageData
        {
            PixelId = "1234567890",
            LoadPixel = true,
            Consent = false,
            DataProcessingOptions = PixelDataProcessingOptions.From(DataProcessingOptions.LimitedDataUse(1, 1000)),
            Events = [],
        });

        var r = await host.RunAsync(new SnippetOptions { Url = FromAnAd, DataBlockJson = json });

        Assert.Empty(r.Errors);
        AssertJsonEqual(
            JsonNode.Parse("""
                [
                  ["consent", "revoke"],
                  ["dataProcessingOptions", ["LDU"], 1, 1000],
                  ["init", "1234567890"],
                  ["track", "PageView"]
                ]
                """),
            r.FbqCalls);
        Assert.Empty(r.CookieWrites);
    }

    [Fact]
    public async Task Consent_from_the_banner_grants_the_pixel_and_writes_cookies_the_server_accepts()
    {
        var json = Serialize(new PixelPageData { PixelId = "1234567890", LoadPixel = true, Consent = false, CookieDomain = "example.com", SubdomainIndex = 1, Events = [] });

        var r = await host.RunAsync(new SnippetOptions { Url = FromAnAd, DataBlockJson = json, Consent = [true] });

        Assert.Empty(r.Errors);
        Assert.Equal(["consent", "revoke", "consent", "grant"], r.FbqCalls.Where(c => c[0].GetString() == "consent").SelectMany(c => new[] { c[0].GetString()!, c[1].GetString()! }));
        Assert.True(MetaCookies.IsValid(r.Cookies["_fbc"]), r.Cookies["_fbc"]);
        Assert.Equal("AbC-123_xyz", MetaCookies.ClickIdOf(r.Cookies["_fbc"]).ToString());
        Assert.True(MetaCookies.IsValid(r.Cookies["_fbp"]), r.Cookies["_fbp"]);
    }

    [Fact]
    public async Task Withdrawn_consent_revokes_the_pixel_and_deletes_the_cookies()
    {
        var json = Serialize(new PixelPageData { Consent = true, Events = [] });

        var r = await host.RunAsync(new SnippetOptions { Url = FromAnAd, DataBlockJson = json, FbqPresent = true, Consent = [false] });

        Assert.Empty(r.Errors);
        AssertJsonEqual(JsonNode.Parse("""[["consent", "revoke"]]"""), r.FbqCalls);
        Assert.False(r.Cookies.ContainsKey("_fbc"));
        Assert.False(r.Cookies.ContainsKey("_fbp"));
    }

    [Fact]
    public async Task An_event_s_own_data_processing_options_surround_it_and_the_page_s_come_back()
    {
        var json = Serialize(new PixelPageData
        {
            DataProcessingOptions = PixelDataProcessingOptions.From(DataProcessingOptions.LimitedDataUse()),
            Events =
            [
                new PixelEvent("track", "Lead", "lead-1", new GraphCustomData())
                {
                    DataProcessingOptions = PixelDataProcessingOptions.From(DataProcessingOptions.None),
                },
            ],
        });

        var r = await host.RunAsync(new SnippetOptions { Url = FromAnAd, DataBlockJson = json, FbqPresent = true });

        Assert.Empty(r.Errors);
        AssertJsonEqual(
            JsonNode.Parse("""
                [
                  ["dataProcessingOptions", ["LDU"], 0, 0],
                  ["dataProcessingOptions", []],
                  ["track", "Lead", {}, {"eventID": "lead-1"}],
                  ["dataProcessingOptions", ["LDU"], 0, 0]
                ]
                """),
            r.FbqCalls);
    }

    [Fact]
    public async Task A_crawler_s_page_loads_no_pixel_writes_no_cookie_and_ignores_consent()
    {
        var json = Serialize(new PixelPageData { PixelId = "1234567890", LoadPixel = true, Consent = false, Crawler = true, Events = [] });

        var r = await host.RunAsync(new SnippetOptions { Url = FromAnAd, DataBlockJson = json, Consent = [true] });

        Assert.Empty(r.Errors);
        Assert.Empty(r.FbqCalls);
        Assert.Empty(r.CookieWrites);
    }

    private static string Serialize(PixelPageData data) => JsonSerializer.Serialize(data, GraphJsonContext.Default.PixelPageData);

    private static void AssertJsonEqual(JsonNode? expected, IReadOnlyList<JsonElement> actual)
    {
        var actualNode = JsonSerializer.SerializeToNode(actual);
        Assert.True(JsonNode.DeepEquals(expected, actualNode), $"expected {expected?.ToJsonString()}{Environment.NewLine}  actual {actualNode?.ToJsonString()}");
    }
}
