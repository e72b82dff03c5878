using System.Net;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Sample;

/// <summary>The sample on its embedded defaults: nothing is sent, and the console tells what would be, and how well it would match.</summary>
public sealed class ShowOnlySampleTests(ShowOnlySampleShop shop) : IClassFixture<ShowOnlySampleShop>
{
    [Fact]
    public async Task A_checkout_with_and_without_an_email_shows_the_match_quality_and_warns_once_about_the_weak_one()
    {
        using var browser = shop.CreateBrowser(new CookieContainer());
        (await browser.GetAsync("/")).Dispose(); // a page view: _fbp, no click ID

        using (var withEmail = await browser.PostAsync("/checkout", new FormUrlEncodedContent([new("email", "shown@example.com"), new("phone", "+1 555 123 4567")])))
        {
            Assert.Equal(HttpStatusCode.OK, withEmail.StatusCode);
        }

        await Eventually.TrueAsync(() => shop.Logs.WithEventId(20).Any(), "the first estimate is shown");
        Assert.Contains(shop.Logs.WithEventId(20), l => l.Message.Contains("Purchase", StringComparison.Ordinal) && l.Message.Contains(": em ph fbp", StringComparison.Ordinal));
        Assert.Empty(shop.Logs.WithEventId(19));

        using (var withoutEmail = await browser.PostAsync("/checkout", new FormUrlEncodedContent([new("firstName", "Nobody")])))
        {
            Assert.Equal(HttpStatusCode.OK, withoutEmail.StatusCode);
        }

        await Eventually.TrueAsync(() => shop.Logs.WithEventId(20).Count() >= 2, "the second estimate is shown");
        Assert.Contains(shop.Logs.WithEventId(20), l => l.Message.Contains("Poor", StringComparison.Ordinal) && l.Message.Contains("missing: email, phone", StringComparison.Ordinal));
        Assert.Single(shop.Logs.WithEventId(19));
        Assert.DoesNotContain("shown@example.com", shop.Logs.AllText, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(shop.Graph.Requests);
    }
}
