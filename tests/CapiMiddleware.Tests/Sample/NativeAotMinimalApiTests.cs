using CapiMiddleware.Cookies;
using CapiMiddleware.Tests.Browser;

namespace CapiMiddleware.Tests.Sample;

/// <summary>
/// Issue 19: the minimal-API sample published with Native AOT still does the whole job, in a real Chromium: the landing
/// page from an ad gets <c>_fbc</c> and <c>_fbp</c> (set by the snippet, which the native program serves), and the
/// signup's Lead reaches the fake Graph API with the Pixel copy's event ID, the hashed email and those cookies.
/// </summary>
public sealed class NativeAotMinimalApiTests(Chromium chromium, NativeAotMinimalApi sample)
    : IClassFixture<Chromium>, IClassFixture<NativeAotMinimalApi>
{
    /// <summary>Meta's Pixel base code, as a site pastes it into the page (samples/MinimalApi's page says where), minus the network.</summary>
    private const string PixelBaseCode = "window.fbq = function () { window.fbq.queue.push(arguments); }; window.fbq.queue = [];";

    [SkippableFact]
    public async Task The_native_program_sets_the_cookies_on_landing_and_delivers_the_lead_with_the_browser_s_event_id()
    {
        sample.Require();
        chromium.Require();
        await using var page = await chromium.NewPageAsync(initScripts: [PixelBaseCode]);

        var landing = await page.GotoAsync(new Uri(sample.BaseUrl, "/?fbclid=Native_Aot_Click_19"));
        Assert.Equal(200, landing.Status);
        await page.WaitForAsync<bool>("document.cookie.includes('_fbc=') && document.cookie.includes('_fbp=')");
        var cookies = await page.DocumentCookiesAsync();
        Assert.Matches(@"^fb\.\d\.\d{13}\.Native_Aot_Click_19$", cookies["_fbc"]);
        Assert.True(MetaCookies.IsValid(cookies["_fbp"]), cookies["_fbp"]);

        await page.FillAsync(new Dictionary<string, string> { ["input[name=email]"] = "Native.Reader@Example.com" });
        await page.ClickAsync("#newsletter button");
        Assert.Equal("Subscribed.", await page.WaitForAsync<string>("document.getElementById('result').textContent"));

        // The Pixel's copy: fbq('track', 'Lead', {}, {eventID}); the server's copy was posted with the same ID.
        var pixelLead = Assert.Single(await page.PixelQueueAsync(), call => call.GetArrayLength() > 3 && call[1].GetString() == "Lead");
        var eventId = pixelLead[3].GetProperty("eventID").GetString()!;

        var lead = await sample.WaitForServerEventAsync(eventId);
        Assert.Equal(("Lead", "website"), (lead.GetProperty("event_name").GetString(), lead.GetProperty("action_source").GetString()));
        var user = lead.GetProperty("user_data");
        Assert.Equal(MinimalApiSampleTests.Sha256("native.reader@example.com"), user.GetProperty("em")[0].GetString());
        Assert.Equal(cookies["_fbc"], user.GetProperty("fbc").GetString());
        Assert.Equal(cookies["_fbp"], user.GetProperty("fbp").GetString());
        Assert.Equal(await page.EvaluateAsync<string>("navigator.userAgent"), user.GetProperty("client_user_agent").GetString());

        var report = await page.ReportAsync();
        Assert.True(report.Errors.Length == 0, "Browser errors:\n" + string.Join("\n", report.Errors));
    }
}
