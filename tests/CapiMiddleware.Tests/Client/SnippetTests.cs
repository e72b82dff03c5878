using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CapiMiddleware.Cookies;
using CapiMiddleware.Events;

namespace CapiMiddleware.Tests.Client;

/// <summary>The real browser snippet (client/dist/meta-capi.js), run in Node, fed by the real C# data block.</summary>
public sealed class SnippetTests(SnippetHost host) : IClassFixture<SnippetHost>
{
    private const string ShopUrl = "https://shop.example.com/checkout/done";

    // ---- the data block, as the server serializes it ----

    [Theory]
    [InlineData("complete")]
    [InlineData("loading")]
    public async Task Events_from_the_serialized_data_block_reach_fbq_with_the_server_event_ids(string readyState)
    {
        var purchase = new PixelEvent("track", "Purchase", "ord-1001", new GraphCustomData
        {
            Value = 42.50m,
            Currency = "USD",
            ContentType = "product",
            Contents = [new GraphContent("sku-1", 2, 21.25m), new GraphContent("sku-2", 1, null)],
        });
        var signup = new PixelEvent("trackCustom", "NewsletterSignup", "Xq3-_9aZkLmNoPqRsTuVwY", new GraphCustomData
        {
            Properties = new() { ["source"] = JsonSerializer.SerializeToElement("footer", GraphJsonContext.Default.String) },
        });
        // loadPixel is on: with the page's own fbq present, the snippet still must not init or PageView.
        var json = Serialize(new PixelPageData
        {
            PixelId = "1234567890",
            LoadPixel = true,
            CookieDomain = "example.com",
            SubdomainIndex = 1,
            Events = [purchase, signup],
        });

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = json, FbqPresent = true, ReadyState = readyState, WaitMs = 30 });

        Assert.Empty(r.Errors);
        Assert.Empty(r.Warnings);
        var serializedEvents = JsonNode.Parse(json)!["events"]!.AsArray();
        Assert.Equal(2, r.FbqCalls.Count);
        PixelEvent[] expected = [purchase, signup];
        for (var i = 0; i < expected.Length; i++)
        {
            var call = r.FbqCalls[i];
            Assert.Equal(JsonValueKind.Array, call.ValueKind);
            Assert.Equal(4, call.GetArrayLength());
            Assert.Equal(expected[i].Method, call[0].GetString());
            Assert.Equal(expected[i].Name, call[1].GetString());
            AssertJsonEqual(serializedEvents[i]!["data"], call[2]);
            AssertJsonEqual(new JsonObject { ["eventID"] = expected[i].EventId }, call[3]);
        }

        // Spot checks that the serialized data is the C# data, not an empty object on both sides.
        Assert.Equal(42.5m, r.FbqCalls[0][2].GetProperty("value").GetDecimal());
        Assert.Equal("USD", r.FbqCalls[0][2].GetProperty("currency").GetString());
        Assert.Equal("sku-1", r.FbqCalls[0][2].GetProperty("contents")[0].GetProperty("id").GetString());
        Assert.Equal(21.25m, r.FbqCalls[0][2].GetProperty("contents")[0].GetProperty("item_price").GetDecimal());
        Assert.Equal("footer", r.FbqCalls[1][2].GetProperty("source").GetString());
    }

    [Fact]
    public async Task LoadPixel_without_fbq_queues_init_PageView_then_the_events()
    {
        var json = Serialize(new PixelPageData
        {
            PixelId = "1234567890",
            LoadPixel = true,
            CookieDomain = "example.com",
            SubdomainIndex = 1,
            Events =
            [
                new PixelEvent(PixelEvent.MethodFor("ViewContent"), "ViewContent", "vc-1", new GraphCustomData { ContentIds = ["sku-1"] }),
                new PixelEvent(PixelEvent.MethodFor("QuizDone"), "QuizDone", "quiz-1", new GraphCustomData()),
            ],
        });

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = json, FbqPresent = false });

        Assert.Empty(r.Errors);
        AssertJsonEqual(
            JsonNode.Parse("""
                [
                  ["init", "1234567890"],
                  ["track", "PageView"],
                  ["track", "ViewContent", {"content_ids": ["sku-1"]}, {"eventID": "vc-1"}],
                  ["trackCustom", "QuizDone", {}, {"eventID": "quiz-1"}]
                ]
                """),
            r.FbqCalls);
    }

    [Fact]
    public async Task Without_loadPixel_or_fbq_nothing_is_fired_and_nothing_is_queued_as_if_the_Pixel_were_there()
    {
        var json = Serialize(new PixelPageData
        {
            PixelId = "1234567890",
            LoadPixel = false,
            Events = [new PixelEvent("track", "Purchase", "ord-1", new GraphCustomData { Value = 1m, Currency = "EUR" })],
        });

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = json, FbqPresent = false });

        Assert.Empty(r.Errors);
        Assert.Empty(r.FbqCalls);
    }

    // ---- window.metaCapi.track ----

    [Theory]
    [InlineData("AddToCart", "track")]
    [InlineData("Purchase", "track")]
    [InlineData("WishlistShared", "trackCustom")]
    [InlineData("addtocart", "trackCustom")] // names are case-sensitive: not a standard event
    public async Task Track_returns_a_fresh_id_its_header_and_fires_it_through_fbq(string name, string method)
    {
        var data = JsonNode.Parse("""{"value": 19.99, "currency": "USD", "content_ids": ["sku-9"]}""");

        var r = await host.TrackAsync(new SnippetOptions { Url = ShopUrl, FbqPresent = true, Name = name, Data = data, WaitMs = 0 });

        Assert.Empty(r.Errors);
        Assert.Matches(new Regex("^[A-Za-z0-9_-]{22,}$"), r.EventId);
        Assert.Equal(new Dictionary<string, string> { ["X-Meta-Event-Id"] = r.EventId }, r.Headers);
        AssertJsonEqual(new JsonArray(new JsonArray(method, name, data!.DeepClone(), new JsonObject { ["eventID"] = r.EventId })), r.FbqCalls);
        Assert.Equal(PixelEvent.MethodFor(name), method); // the browser and the server agree on the method
    }

    [Fact]
    public async Task Track_gives_a_different_id_each_time()
    {
        var ids = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            var r = await host.TrackAsync(new SnippetOptions { Url = ShopUrl, FbqPresent = true, Name = "AddToCart", WaitMs = 0 });
            Assert.Empty(r.Errors);
            ids.Add(r.EventId);
        }

        Assert.Equal(5, ids.Count);
    }

    // ---- _fbc / _fbp, by the server's rules ----

    [Theory]
    [InlineData("example.com")]
    [InlineData("shop.example.com")]
    [InlineData(null)]
    public async Task Fbclid_without_cookies_writes_fbc_and_fbp_the_server_accepts(string? cookieDomain)
    {
        var index = MetaCookies.SubdomainIndex(cookieDomain, "shop.example.com");
        var json = Serialize(new PixelPageData { CookieDomain = cookieDomain, SubdomainIndex = index, Events = [] });
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var r = await host.RunAsync(new SnippetOptions { Url = "https://shop.example.com/p/1?utm_source=fb&fbclid=AbC-123_xyz", DataBlockJson = json });

        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Empty(r.Errors);
        var fbc = r.Cookies["_fbc"];
        var fbcMatch = Regex.Match(fbc, @"^fb\.(\d+)\.(\d{13})\.AbC-123_xyz$");
        Assert.True(fbcMatch.Success, fbc);
        Assert.Equal(index.ToString(System.Globalization.CultureInfo.InvariantCulture), fbcMatch.Groups[1].Value);
        Assert.InRange(long.Parse(fbcMatch.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), before - 1000, after + 1000);
        Assert.True(MetaCookies.IsValid(fbc), fbc);
        Assert.Equal("AbC-123_xyz", MetaCookies.ClickIdOf(fbc).ToString());

        var fbp = r.Cookies["_fbp"];
        Assert.Matches(new Regex(@"^fb\." + index + @"\.\d{13}\.\d+$"), fbp);
        Assert.True(MetaCookies.IsValid(fbp), fbp);

        Assert.Equal(2, r.CookieWrites.Count);
        foreach (var write in r.CookieWrites)
        {
            Assert.Contains("; path=/", write);
            Assert.Contains("; max-age=7776000", write);
            Assert.Contains("; samesite=lax", write);
            Assert.Contains("; secure", write);
            Assert.DoesNotContain("httponly", write, StringComparison.OrdinalIgnoreCase);
            if (cookieDomain is null)
            {
                Assert.DoesNotContain("domain=", write);
            }
            else
            {
                Assert.EndsWith("; domain=" + cookieDomain, write);
            }
        }
    }

    [Theory]
    [InlineData("_fbc=fb.1.1600000000000.AbC-123_xyz")]
    [InlineData("_fbc=fb.2.1600000000000.AbC-123_xyz.AQQCAQMC")]
    public async Task An_fbc_with_the_same_click_id_is_kept_byte_for_byte(string existing)
    {
        var cookie = existing + "; _fbp=fb.1.1600000000000.1116446470";

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl + "?fbclid=AbC-123_xyz", Cookie = cookie, DataBlockJson = BlockWithDomain() });

        Assert.Empty(r.Errors);
        Assert.True(MetaCookies.IsValid(existing.AsSpan("_fbc=".Length)));
        Assert.Equal(existing["_fbc=".Length..], r.Cookies["_fbc"]);
        Assert.Equal("fb.1.1600000000000.1116446470", r.Cookies["_fbp"]);
        Assert.Empty(r.CookieWrites);
    }

    [Fact]
    public async Task An_fbc_with_another_click_id_is_replaced_with_a_new_timestamp()
    {
        var json = Serialize(new PixelPageData { SubdomainIndex = 1, Events = [] });

        var r = await host.RunAsync(new SnippetOptions
        {
            Url = ShopUrl + "?fbclid=NewClick_2",
            Cookie = "_fbc=fb.1.1600000000000.OldClick_1; _fbp=fb.1.1600000000000.1116446470",
            DataBlockJson = json,
        });

        Assert.Empty(r.Errors);
        var fbc = r.Cookies["_fbc"];
        Assert.Matches(new Regex(@"^fb\.1\.\d{13}\.NewClick_2$"), fbc);
        Assert.DoesNotContain("1600000000000", fbc);
        Assert.True(MetaCookies.IsValid(fbc));
        Assert.Equal("NewClick_2", MetaCookies.ClickIdOf(fbc).ToString());
        Assert.Equal("fb.1.1600000000000.1116446470", r.Cookies["_fbp"]);
        Assert.Single(r.CookieWrites);
    }

    [Theory]
    [InlineData("fb.1.1700000000000.IwAR2.AQQCAQMC")]
    [InlineData("fb.1.1700000000000.1116446470.Bg")]
    [InlineData("fb.1.1700000000000.1116446470.AQb_-xyz")]
    public async Task A_five_segment_fbp_is_kept(string fbp)
    {
        Assert.True(MetaCookies.IsValid(fbp));

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, Cookie = "_fbp=" + fbp, DataBlockJson = BlockWithDomain() });

        Assert.Empty(r.Errors);
        Assert.Equal(fbp, r.Cookies["_fbp"]);
        Assert.False(r.Cookies.ContainsKey("_fbc"));
        Assert.Empty(r.CookieWrites);
    }

    [Theory]
    [InlineData("_fbp=fb.1.1700000000000")]          // 3 segments
    [InlineData("_fbp=fb.1.x.123")]                  // timestamp not a number
    [InlineData("_fbp=fb.1.1700000000000.1.2.3")]    // 6 segments
    [InlineData("_fbp=")]
    [InlineData("_fbp=fb.1.1700000000000.12%34")]     // a character the server refuses
    [InlineData("_fbp=fb.12345.1700000000000.1")]     // an index longer than the server accepts
    [InlineData("_fbp=fb.1.1700000000000.1.ZZZZZZZZ")]  // a fifth segment that is no appendix of Meta's
    [InlineData("_fbp=fb.1.1700000000000.1.AQcCAQMC")]  // an appendix naming no language
    [InlineData("_fbp=fb.1.1700000000000.1.XY")]        // no language token
    public async Task A_malformed_fbp_is_replaced_as_the_server_would(string cookie)
    {
        Assert.False(MetaCookies.IsValid(cookie.AsSpan("_fbp=".Length)));

        // Host-only, like the existing cookie: a domain cookie would sit beside it instead of replacing it.
        var json = Serialize(new PixelPageData { SubdomainIndex = 1, Events = [] });

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, Cookie = cookie, DataBlockJson = json });

        Assert.Empty(r.Errors);
        Assert.True(MetaCookies.IsValid(r.Cookies["_fbp"]), r.Cookies["_fbp"]);
        Assert.Single(r.CookieWrites);
    }

    public static TheoryData<string> Fbclids => new()
    {
        new string('a', 500),
        new string('a', 501),
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "<script>",
        "AbC.123",
        "AbC%20123",
        "",
        "IwAR2x-_Zz09",
    };

    [Theory]
    [MemberData(nameof(Fbclids))]
    public async Task An_fbclid_is_stored_exactly_when_the_server_would_store_it(string rawQueryValue)
    {
        var fbclid = Uri.UnescapeDataString(rawQueryValue);
        var expected = MetaCookies.IsValidFbclid(fbclid);

        var r = await host.RunAsync(new SnippetOptions
        {
            Url = ShopUrl + "?fbclid=" + rawQueryValue,
            Cookie = "_fbp=fb.1.1600000000000.1116446470",
            DataBlockJson = BlockWithDomain(),
        });

        Assert.Empty(r.Errors);
        if (expected)
        {
            Assert.True(r.Cookies.TryGetValue("_fbc", out var fbc), "no _fbc for " + rawQueryValue);
            Assert.True(MetaCookies.IsValid(fbc), fbc);
            Assert.Equal(fbclid, MetaCookies.ClickIdOf(fbc).ToString());
        }
        else
        {
            Assert.False(r.Cookies.ContainsKey("_fbc"), "an _fbc for " + rawQueryValue);
            Assert.Empty(r.CookieWrites);
        }
    }

    [Fact]
    public async Task An_invalid_fbclid_leaves_an_existing_fbc_alone()
    {
        const string Fbc = "fb.1.1600000000000.OldClick_1";

        var r = await host.RunAsync(new SnippetOptions
        {
            Url = ShopUrl + "?fbclid=" + new string('b', 501),
            Cookie = "_fbc=" + Fbc + "; _fbp=fb.1.1600000000000.1116446470",
            DataBlockJson = BlockWithDomain(),
        });

        Assert.Empty(r.Errors);
        Assert.Equal(Fbc, r.Cookies["_fbc"]);
        Assert.Empty(r.CookieWrites);
    }

    [Fact]
    public async Task A_cookie_domain_the_page_is_not_on_falls_back_to_a_host_only_cookie()
    {
        var json = Serialize(new PixelPageData { CookieDomain = "example.org", SubdomainIndex = 1, Events = [] });

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = json });

        Assert.Empty(r.Errors);
        Assert.True(MetaCookies.IsValid(r.Cookies["_fbp"]));
        Assert.Equal(2, r.CookieWrites.Count);
        Assert.EndsWith("; domain=example.org", r.CookieWrites[0]);
        Assert.DoesNotContain("domain=", r.CookieWrites[1]);
    }

    // ---- hostile or broken data blocks ----

    public static TheoryData<string?> BrokenBlocks => new()
    {
        null,
        "",
        "{not json",
        "</script><script>alert(1)</script>",
        "null",
        "42",
        "\"events\"",
        "[]",
        """[{"method":"track","name":"Purchase","eventId":"x"}]""",
        """{"events": {"0": {"method":"track","name":"Purchase","eventId":"x"}, "length": 1}}""",
        """{"events": "Purchase"}""",
        """{"events": null}""",
        """{"events": [null, 1, "Purchase", [], {}, {"name": 5}, {"name": ""}, {"name": null, "method": "track"}]}""",
        """{"__proto__": {"loadPixel": true, "pixelId": "666", "events": [{"name":"Purchase","eventId":"x"}]}}""",
        """{"loadPixel": true, "pixelId": {"toString": "666"}, "events": []}""",
        """{"loadPixel": "true", "pixelId": "666", "events": []}""",
    };

    [Theory]
    [MemberData(nameof(BrokenBlocks))]
    public async Task A_broken_data_block_fires_nothing_and_throws_nothing(string? block)
    {
        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = block, FbqPresent = true });

        Assert.Empty(r.Errors);
        Assert.Empty(r.FbqCalls);
        Assert.InRange(r.Warnings.Count, 0, 1);
        Assert.True(MetaCookies.IsValid(r.Cookies["_fbp"])); // the rest of the snippet still works
        Assert.Equal(new[] { "track", "eventHeaders", "newEventId", "consent", "version" }, r.Api);
    }

    [Fact]
    public async Task A_broken_data_block_without_fbq_loads_no_pixel()
    {
        var r = await host.RunAsync(new SnippetOptions
        {
            Url = ShopUrl,
            DataBlockJson = """{"loadPixel": true, "pixelId": "", "events": [{"method":"track","name":"Purchase","eventId":"x"}]}""",
            FbqPresent = false,
        });

        Assert.Empty(r.Errors);
        Assert.Empty(r.FbqCalls);
    }

    [Fact]
    public async Task Script_like_strings_in_event_data_stay_data()
    {
        const string Evil = "</script><script>alert('x')</script><!--";
        var json = Serialize(new PixelPageData
        {
            Events =
            [
                new PixelEvent("track", "Purchase", "ord-</script>", new GraphCustomData
                {
                    ContentName = Evil,
                    Properties = new() { ["note"] = JsonSerializer.SerializeToElement("\u2028\"'&<>", GraphJsonContext.Default.String) },
                }),
            ],
        });

        // What the tag helper puts inside <script type="application/json"> must not be able to close it.
        Assert.DoesNotContain("<", json);
        Assert.DoesNotContain(">", json);

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = json, FbqPresent = true });

        Assert.Empty(r.Errors);
        var call = Assert.Single(r.FbqCalls);
        Assert.Equal(4, call.GetArrayLength());
        Assert.Equal(Evil, call[2].GetProperty("content_name").GetString());
        Assert.Equal("\u2028\"'&<>", call[2].GetProperty("note").GetString());
        Assert.Equal("ord-</script>", call[3].GetProperty("eventID").GetString());
    }

    [Fact]
    public async Task Hostile_fields_are_sanitized_not_obeyed()
    {
        const string Block = """
            {
              "subdomainIndex": -1,
              "cookieDomain": "example.com; secure; httponly",
              "events": [
                {"method": "init", "name": "Purchase", "eventId": "p-1", "data": {"value": 1}},
                {"method": "consent", "name": "revoke", "eventId": "r-1", "data": "not an object"},
                {"method": "track", "name": "Lead", "eventId": 12345, "data": null}
              ]
            }
            """;

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = Block, FbqPresent = true });

        Assert.Empty(r.Errors);
        // A method other than track/trackCustom is ignored in favour of the one the name implies; an ID that is not
        // a string is not passed on.
        AssertJsonEqual(
            JsonNode.Parse("""
                [
                  ["track", "Purchase", {"value": 1}, {"eventID": "p-1"}],
                  ["trackCustom", "revoke", {}, {"eventID": "r-1"}],
                  ["track", "Lead", {}]
                ]
                """),
            r.FbqCalls);
        Assert.Matches(new Regex(@"^fb\.1\.\d{13}\.\d+$"), r.Cookies["_fbp"]);
        Assert.All(r.CookieWrites, w => Assert.DoesNotContain("domain=", w));
        Assert.All(r.CookieWrites, w => Assert.DoesNotContain("httponly", w));
    }

    private static string Serialize(PixelPageData data) => JsonSerializer.Serialize(data, GraphJsonContext.Default.PixelPageData);

    private static string BlockWithDomain() =>
        Serialize(new PixelPageData { CookieDomain = "example.com", SubdomainIndex = 1, Events = [] });

    private static void AssertJsonEqual(JsonNode? expected, object actual)
    {
        var actualNode = actual is JsonElement element ? JsonNode.Parse(element.GetRawText()) : JsonSerializer.SerializeToNode(actual);
        Assert.True(
            JsonNode.DeepEquals(expected, actualNode),
            $"expected {expected?.ToJsonString() ?? "null"}{Environment.NewLine}  actual {actualNode?.ToJsonString() ?? "null"}");
    }

    [Fact]
    public async Task A_throwing_fbq_never_throws_into_the_page()
    {
        var json = Serialize(new PixelPageData
        {
            Events = [new PixelEvent("track", "Lead", "id-1", new GraphCustomData())],
        });

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = json, FbqPresent = true, FbqThrows = true });

        Assert.Empty(r.Errors);
        Assert.Contains("track", r.Api);
    }

    [Fact]
    public async Task Event_data_that_is_not_an_object_is_replaced_by_an_empty_one()
    {
        const string Json = """{"v":1,"events":[{"method":"track","name":"Lead","eventId":"id-1","data":[1,2]}]}""";

        var r = await host.RunAsync(new SnippetOptions { Url = ShopUrl, DataBlockJson = Json, FbqPresent = true });

        var call = Assert.Single(r.FbqCalls);
        Assert.Equal("{}", call[2].GetRawText());
    }
}
