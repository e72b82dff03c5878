using System.Text.Json;
using CapiMiddleware.Tests.Context;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// Issue 15, part 2, in Chromium on <c>www.shop.test</c>: three returning visitors (each with their own <c>_fbp</c>) of
/// a product page in ASP.NET Core's output cache, and of one marked <c>Cache-Control: public</c>, give three server
/// events, each with the event ID its own Pixel call carries and its own <c>fbp</c>; the cached page is rendered once.
/// </summary>
public sealed class SharedPagesInBrowserTests(Chromium chromium) : IClassFixture<Chromium>
{
    [SkippableTheory]
    [InlineData("/shared/output-cache")]
    [InlineData("/shared/public")]
    public async Task Three_visitors_of_a_cached_page_give_three_events_each_their_own(string path)
    {
        chromium.Require();
        await using var app = await SharedPagesTests.StartAsync();
        var renders = app.Services.GetRequiredService<Infrastructure.SharedPagesController.Renders>();
        var url = new Uri($"http://www.shop.test:{app.BaseUrl.Port}{path}");
        var seen = new List<(string EventId, string Fbp)>();
        for (var visitor = 1; visitor <= 3; visitor++)
        {
            var fbp = $"fb.1.1700000000000.{visitor}{visitor}{visitor}";
            await using var page = await chromium.NewPageAsync();
            await page.AddCookiesAsync(new BrowserCookie("_fbp", fbp, ".shop.test"));
            await page.GotoAsync(url);

            // The Pixel's copy is fired once the server took the event, with the ID the snippet minted for this visitor.
            var call = await page.WaitForAsync<JsonElement>(
                "(window.fbq.queue || []).map(a => Array.from(a)).find(a => a[0] === 'track' && a[1] === 'ViewContent') || false");
            var eventId = call[3].GetProperty("eventID").GetString()!;
            await Infrastructure.Eventually.TrueAsync(
                () => app.Graph!.AcceptedEvents.Any(e => e.GetProperty("event_id").GetString() == eventId), $"event {eventId} reaches Graph");
            var sent = app.Graph!.AcceptedEvents.Single(e => e.GetProperty("event_id").GetString() == eventId);
            Assert.Equal(fbp, sent.GetProperty("user_data").GetProperty("fbp").GetString());
            Assert.Equal(url.ToString(), sent.GetProperty("event_source_url").GetString());
            Assert.Equal(12.5m, call[2].GetProperty("value").GetDecimal());
            seen.Add((eventId, fbp));
            var report = await page.ReportAsync();
            Assert.True(report.Errors.Length == 0, string.Join("\n", report.Errors));
        }

        Assert.Equal(3, seen.Select(s => s.EventId).Distinct().Count());
        if (path == "/shared/output-cache")
        {
            Assert.Equal(1, renders.Count); // the page stayed cached
        }

        await app.StopAsync();
        Assert.Equal(3, app.Graph!.AcceptedEvents.Count); // nothing for the visitor who happened to render it
    }
}
