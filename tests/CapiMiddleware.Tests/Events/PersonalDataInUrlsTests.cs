using System.Diagnostics.Metrics;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CapiMiddleware.Tests.Events;

/// <summary>
/// Issue 14, item 7: personal data in a page URL or Referer (a GET form, a link from an email) is removed from
/// <c>event_source_url</c> and <c>referrer_url</c> before the event is queued, and counted; the rest of the URL stays.
/// </summary>
public sealed class PersonalDataInUrlsTests
{
    [Theory]
    [InlineData("https://shop.test/checkout?email=victim%40x.com", "https://shop.test/checkout", 1)]
    [InlineData("https://shop.test/checkout?step=2&email=victim%40x.com&coupon=A1", "https://shop.test/checkout?step=2&coupon=A1", 1)]
    [InlineData("https://shop.test/c?E-Mail=a%40b.co&Phone_Number=5551234&first_name=Jos%C3%A9&ln=Doe", "https://shop.test/c", 4)]
    [InlineData("https://shop.test/c?contact=jane.doe%40example.com", "https://shop.test/c", 1)]
    [InlineData("https://shop.test/c?q=call+me+at+%2B1+555+123+4567", "https://shop.test/c?q=call+me+at+%2B1+555+123+4567", 0)]
    [InlineData("https://shop.test/c?who=%2B1%20555%20123%204567", "https://shop.test/c", 1)]
    [InlineData("https://shop.test/c?who=(555)%20123-4567&x=1", "https://shop.test/c?x=1", 1)]
    [InlineData("https://shop.test/c?jane%40example.com", "https://shop.test/c", 1)]
    [InlineData("https://shop.test/c?email[]=a%40b.co#top", "https://shop.test/c#top", 1)]
    [InlineData("https://shop.test/c?a=1&&email=x&", "https://shop.test/c?a=1", 1)]
    public void Personal_parameters_go_and_the_rest_stays_byte_for_byte(string url, string expected, int removed)
    {
        Assert.Equal(expected, PersonalDataInUrls.Default.Scrub(url, out var count));
        Assert.Equal(removed, count);
    }

    [Theory]
    [InlineData("https://shop.test/products/42?order=100012345&id=9876543210")] // plain digits: order and product numbers
    [InlineData("https://shop.test/book?from=2026-12-24&to=2026-12-31")] // dates are not phone numbers
    [InlineData("https://shop.test/p?utm_source=fb&fbclid=AbC-123_xyz&v=1.2.3")]
    [InlineData("https://shop.test/p?ref=a%40")] // an @ without a domain
    [InlineData("https://shop.test/p")]
    [InlineData("https://shop.test/p?%zz=%")] // broken escapes are read, never thrown on
    public void Urls_without_personal_data_are_returned_as_they_are(string url)
    {
        Assert.Same(url, PersonalDataInUrls.Default.Scrub(url, out var count));
        Assert.Equal(0, count);
    }

    [Fact]
    public void The_site_can_name_more_parameters()
    {
        var rules = new PersonalDataInUrls(["Customer", "voucher-holder"]);
        Assert.Equal("https://shop.test/c?x=1", rules.Scrub("https://shop.test/c?customer=jane&x=1&voucher_holder=Jane+Doe", out var count));
        Assert.Equal(2, count);
    }

    [Fact]
    public async Task Events_whose_urls_carry_personal_data_reach_Meta_without_it_and_are_counted()
    {
        await using var app = await TestApp.StartAsync(o => o.PersonalDataQueryParameters = ["member"]);
        using var collector = new MetricCollector<long>(
            app.Services.GetRequiredService<ConversionMetrics>().Meter, "capimiddleware.urls.personal_data_removed");

        // A POST's page URL is the same-site page that sent it: here a checkout page reached from an email link.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/purchase?orderId=ord-pii") { Content = TestApp.Form() };
        request.Headers.Referrer = new Uri(app.BaseUrl, "/checkout?email=victim%40x.com&member=jane&step=2");
        (await app.Client.SendAsync(request)).EnsureSuccessStatusCode();

        // An event queued in code, with a referrer that carries a phone number.
        var queue = app.Services.GetRequiredService<IConversionQueue>();
        Assert.True(await queue.EnqueueAsync(new ConversionEvent("Lead")
        {
            EventId = "lead-pii",
            EventSourceUrl = "https://shop.test/landing?utm_source=mail",
            ReferrerUrl = "https://mail.example/read?to=%2B1%20555%20123%204567&folder=inbox",
            UserData = new UserData { ClientUserAgent = TestApp.UserAgent },
        }));

        var sent = await app.Graph!.WaitForEventsAsync(2, TimeSpan.FromSeconds(10));
        var purchase = Assert.Single(sent, e => e.GetProperty("event_id").GetString() == "ord-pii");
        Assert.Equal(new Uri(app.BaseUrl, "/checkout?step=2").ToString(), purchase.GetProperty("event_source_url").GetString());
        var lead = Assert.Single(sent, e => e.GetProperty("event_id").GetString() == "lead-pii");
        Assert.Equal("https://mail.example/read?folder=inbox", lead.GetProperty("referrer_url").GetString());
        Assert.Equal("https://shop.test/landing?utm_source=mail", lead.GetProperty("event_source_url").GetString());
        Assert.All(sent, e => Assert.DoesNotContain("victim", e.ToString()));

        var counted = collector.GetMeasurementSnapshot();
        Assert.Equal(2, counted.Where(m => (string?)m.Tags["url"] == "event_source_url").Sum(m => m.Value));
        Assert.Equal(1, counted.Where(m => (string?)m.Tags["url"] == "referrer_url").Sum(m => m.Value));
    }
}
