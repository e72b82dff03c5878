using System.Net;
using System.Text;
using System.Text.Json;

namespace CapiMiddleware.Tests.Sample;

/// <summary>
/// Issue 14, item 9: the sample checks its input like the app a user would copy. A form it cannot read, posted to any of
/// its POST routes (with a valid antiforgery token, so the form itself is what is wrong), is a 400 with a message,
/// never a 500.
/// </summary>
public sealed class SampleShopMalformedFormTests(SampleShop shop) : IClassFixture<SampleShop>
{
    public static readonly TheoryData<string> Routes = ["/checkout", "/cart", "/register", "/consent", "/newsletter"];

    public static TheoryData<string, string> RoutesAndForms()
    {
        var data = new TheoryData<string, string>();
        foreach (var route in new[] { "/checkout", "/cart", "/register", "/consent", "/newsletter" })
        {
            foreach (var form in new[] { "1,100 fields", "a broken multipart body", "multipart without a boundary", "a multipart part without a name" })
            {
                data.Add(route, form);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoutesAndForms))]
    public async Task A_form_the_shop_cannot_read_is_a_400_with_a_message(string route, string form)
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        var token = SampleShopConsentTests.Token(await browser.GetStringAsync("/newsletter")); // and its cookie, in the jar

        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = Malformed(form, token) };
        using var response = await browser.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{form} to {route}: {(int)response.StatusCode}\n{body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal("The form could not be read.", problem.GetProperty("title").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()), body);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_well_formed_post_to_each_route_is_not_refused_by_the_check(string route)
    {
        using var browser = shop.CreateBrowser(new CookieContainer(), consented: false);
        var token = SampleShopConsentTests.Token(await browser.GetStringAsync("/newsletter"));

        using var response = await browser.PostAsync(route, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["productId"] = "1",
            ["email"] = "well.formed@example.com",
            ["choice"] = "decline",
        }));

        Assert.True((int)response.StatusCode is 200 or 204 or 302, $"{route}: {(int)response.StatusCode}");
    }

    private static HttpContent Malformed(string form, string token)
    {
        switch (form)
        {
            case "1,100 fields":
                var fields = new List<KeyValuePair<string, string>> { new("__RequestVerificationToken", token), new("productId", "1") };
                fields.AddRange(Enumerable.Range(0, 1_100).Select(i => new KeyValuePair<string, string>($"f{i}", "x")));
                return new FormUrlEncodedContent(fields);
            case "a broken multipart body":
                // A boundary that never closes: the body ends in the middle of a part.
                return Multipart("multipart/form-data; boundary=capi-boundary",
                    $"--capi-boundary\r\nContent-Disposition: form-data; name=\"__RequestVerificationToken\"\r\n\r\n{token}\r\n" +
                    "--capi-boundary\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nbroken@exam");
            case "multipart without a boundary":
                return Multipart("multipart/form-data", $"__RequestVerificationToken={token}&email=a%40b.c");
            case "a multipart part without a name":
                return Multipart("multipart/form-data; boundary=capi-boundary",
                    "--capi-boundary\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--capi-boundary--\r\n");
            default:
                throw new ArgumentOutOfRangeException(nameof(form), form, null);
        }
    }

    private static ByteArrayContent Multipart(string contentType, string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }
}
