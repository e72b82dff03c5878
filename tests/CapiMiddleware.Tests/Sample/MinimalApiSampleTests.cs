using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Sample;

/// <summary>The minimal-API sample (samples/MinimalApi) as a user runs it, sending to the fake Graph API.</summary>
public sealed class MinimalApiSampleTests(MinimalApiSample sample) : IClassFixture<MinimalApiSample>
{
    [Fact]
    public async Task The_static_page_loads_the_snippet_which_the_middleware_serves()
    {
        using var browser = sample.CreateBrowser(new CookieContainer());

        // A static file: the middleware is not involved, so the snippet sets _fbc and _fbp in the browser itself.
        var html = await browser.GetStringAsync("/");
        Assert.Contains("<script src=\"/_capi/meta-capi.js\"", html, StringComparison.Ordinal);
        Assert.Contains("metaCapi.eventHeaders(eventId)", html, StringComparison.Ordinal);

        using var snippet = await browser.GetAsync("/_capi/meta-capi.js");
        Assert.Equal(HttpStatusCode.OK, snippet.StatusCode);
        Assert.Contains("metaCapi", await snippet.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signup_from_the_page_sends_a_lead_with_the_browser_s_event_id_and_the_hashed_email()
    {
        using var response = await SignUpAsync(sample, " Reader@Example.com ", "browser-lead-1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var lead = await sample.WaitForServerEventAsync("browser-lead-1");
        Assert.Equal(("Lead", "website"), (lead.GetProperty("event_name").GetString(), lead.GetProperty("action_source").GetString()));
        Assert.Equal(Sha256("reader@example.com"), lead.GetProperty("user_data").GetProperty("em")[0].GetString());
    }

    [Fact]
    public async Task A_contact_declared_in_code_is_sent_only_when_the_message_is_accepted()
    {
        using var browser = sample.CreateBrowser(new CookieContainer());
        using (var empty = await browser.PostAsJsonAsync("/api/contact", new { email = "empty@example.com", text = "" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        }

        using var accepted = await browser.PostAsJsonAsync("/api/contact", new { email = "asker@example.com", text = "Do you ship to Lisbon?" });
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var eventId = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("eventId").GetString()!;

        var contact = await sample.WaitForServerEventAsync(eventId);
        Assert.Equal("Contact", contact.GetProperty("event_name").GetString());
        Assert.Equal(Sha256("asker@example.com"), contact.GetProperty("user_data").GetProperty("em")[0].GetString());
        Assert.DoesNotContain(sample.Graph.AcceptedEvents, e => e.GetProperty("user_data").TryGetProperty("em", out var em)
            && em[0].GetString() == Sha256("empty@example.com"));
    }

    [Fact]
    public async Task A_signup_without_an_address_sends_nothing()
    {
        using (var refused = await SignUpAsync(sample, "", "browser-lead-refused"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        (await SignUpAsync(sample, "later@example.com", "browser-lead-later")).Dispose();
        await sample.WaitForServerEventAsync("browser-lead-later");
        Assert.DoesNotContain(sample.Graph.AcceptedEvents, e => e.GetProperty("event_id").GetString() == "browser-lead-refused");
    }

    /// <summary>
    /// Issue 14, item 2's check of this sample: it has no consent or form endpoint. Its two POSTs take JSON only, which
    /// a page on another site cannot send without CORS (the shop allows none); what such a page can send, a form or
    /// <c>text/plain</c>, is refused (415) and reports nothing. The first lead a well-formed post reports is the proof.
    /// </summary>
    [Theory]
    [InlineData("/api/newsletter", "application/x-www-form-urlencoded", "email=cross.site%40example.com")]
    [InlineData("/api/newsletter", "text/plain", """{"email":"cross.site@example.com"}""")]
    [InlineData("/api/newsletter", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\ncross.site@example.com\r\n--b--\r\n")]
    [InlineData("/api/contact", "text/plain", """{"email":"cross.site@example.com","text":"hi"}""")]
    public async Task What_a_page_on_another_site_can_post_is_refused_the_endpoints_take_JSON_only(string path, string contentType, string body)
    {
        using var browser = sample.CreateBrowser(new CookieContainer());
        using var content = new StringContent(body);
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await browser.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var marker = "json-" + Guid.NewGuid().ToString("N")[..12];
        (await SignUpAsync(sample, "after.refusal@example.com", marker)).Dispose();
        await sample.WaitForServerEventAsync(marker);
        Assert.DoesNotContain(sample.Graph.AcceptedEvents, e => e.GetProperty("user_data").TryGetProperty("em", out var em)
            && em[0].GetString() == Sha256("cross.site@example.com"));
    }

    /// <summary>What the sample's page does: the Pixel's event ID in <c>X-Meta-Event-Id</c>, the address as JSON.</summary>
    internal static async Task<HttpResponseMessage> SignUpAsync(MinimalApiSample sample, string email, string browserEventId)
    {
        using var browser = sample.CreateBrowser(new CookieContainer());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/newsletter") { Content = JsonContent.Create(new { email }) };
        request.Headers.Add("X-Meta-Event-Id", browserEventId);
        return await browser.SendAsync(request);
    }

    internal static string Sha256(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}

/// <summary>The minimal-API sample on its embedded defaults, as <c>dotnet run</c> starts it: nothing sent, everything shown.</summary>
public sealed class ShowOnlyMinimalApiSampleTests(ShowOnlyMinimalApiSample sample) : IClassFixture<ShowOnlyMinimalApiSample>
{
    [Fact]
    public async Task Without_a_token_the_lead_is_shown_in_the_log_and_not_sent()
    {
        using var response = await MinimalApiSampleTests.SignUpAsync(sample, "shown@example.com", "shown-lead-1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await Eventually.TrueAsync(
            () => sample.Logs.WithEventId(20).Any(l => l.Message.Contains("Lead shown-lead-1", StringComparison.Ordinal)),
            "the lead is shown in the log");
        Assert.Empty(sample.Graph.Requests);
        Assert.DoesNotContain("shown@example.com", sample.Logs.AllText, StringComparison.OrdinalIgnoreCase);
    }
}
