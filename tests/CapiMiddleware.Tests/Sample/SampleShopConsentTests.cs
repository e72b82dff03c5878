using System.Net;
using System.Text.RegularExpressions;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Sample;

/// <summary>
/// Issue 14, item 2 over HTTP: the sample's <c>POST /consent</c> takes the banner's answer only with the antiforgery
/// token of the banner's form, so a page on another site cannot turn tracking on for a visitor.
/// </summary>
public sealed partial class SampleShopConsentTests(SampleShop shop) : IClassFixture<SampleShop>
{
    [Fact]
    public async Task A_consent_post_without_the_banner_s_token_is_refused_and_its_click_id_is_never_kept()
    {
        var jar = new CookieContainer();
        using var visitor = shop.CreateBrowser(jar, consented: false);
        (await visitor.GetAsync("/products/1")).Dispose(); // the visitor has seen the banner (and holds its antiforgery cookie)

        using var forged = await visitor.PostAsync("/consent", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["choice"] = "accept",
            ["returnUrl"] = "/?fbclid=Forged_Click_1",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("antiforgery token", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(jar.GetAllCookies(), c => c.Name == SampleShop.ConsentCookieName);

        using var later = await visitor.GetAsync("/?fbclid=Forged_Click_1");
        var html = await later.Content.ReadAsStringAsync();
        Assert.DoesNotContain(jar.GetAllCookies(), c => c.Name is "_fbc" or "_fbp");
        Assert.False(PageData.Read(html).GetProperty("consent").GetBoolean());
        Assert.Contains("id=\"consent-banner\"", html, StringComparison.Ordinal); // still asked
    }

    [Fact]
    public async Task A_token_from_another_visitor_s_page_is_refused_too()
    {
        using var attacker = shop.CreateBrowser(new CookieContainer(), consented: false);
        var token = Token(await attacker.GetStringAsync("/"));

        var jar = new CookieContainer();
        using var visitor = shop.CreateBrowser(jar, consented: false);
        (await visitor.GetAsync("/")).Dispose();
        using var forged = await visitor.PostAsync("/consent", Form(token, "accept", "/"));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.DoesNotContain(jar.GetAllCookies(), c => c.Name == SampleShop.ConsentCookieName);
    }

    [Fact]
    public async Task The_banner_s_own_form_grants_consent_and_goes_back_to_its_page()
    {
        var jar = new CookieContainer();
        using var visitor = shop.CreateBrowser(jar, consented: false);
        var page = await visitor.GetStringAsync("/products/2?fbclid=Own_Click_2");
        Assert.Contains("name=\"returnUrl\" value=\"/products/2?fbclid=Own_Click_2\"", page, StringComparison.Ordinal);

        using var accepted = await visitor.PostAsync("/consent", Form(Token(page), "accept", "/products/2?fbclid=Own_Click_2"));

        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal("/products/2?fbclid=Own_Click_2", accepted.Headers.Location?.OriginalString);
        Assert.Contains(jar.GetAllCookies(), c => c.Name == SampleShop.ConsentCookieName);
        var back = await visitor.GetStringAsync("/products/2?fbclid=Own_Click_2");
        Assert.Matches(@"^fb\.\d\.\d{13}\.Own_Click_2$", jar.GetAllCookies().Single(c => c.Name == "_fbc").Value);
        var view = Assert.Single(PageData.Events(back));
        await shop.WaitForServerEventAsync(view.EventId);
    }

    [Fact]
    public async Task The_banner_s_script_posts_the_token_and_gets_no_content_and_a_decline_is_remembered()
    {
        var jar = new CookieContainer();
        using var visitor = shop.CreateBrowser(jar, consented: false);
        var token = Token(await visitor.GetStringAsync("/"));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/consent") { Content = Form(token, "decline", "/") };
        request.Headers.Accept.ParseAdd("application/json"); // as shop.js asks
        using var declined = await visitor.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, declined.StatusCode);
        Assert.Contains(jar.GetAllCookies(), c => c.Name == "shop-consent-declined");
        Assert.DoesNotContain("id=\"consent-banner\"", await visitor.GetStringAsync("/"), StringComparison.Ordinal);
    }

    internal static string Token(string html)
    {
        var match = AntiforgeryToken().Match(html);
        Assert.True(match.Success, "The page has no antiforgery token field:\n" + html);
        return match.Groups[1].Value;
    }

    private static FormUrlEncodedContent Form(string token, string choice, string returnUrl) => new(new Dictionary<string, string>
    {
        ["__RequestVerificationToken"] = token,
        ["choice"] = choice,
        ["returnUrl"] = returnUrl,
    });

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
