using CapiMiddleware.Context;
using CapiMiddleware.Events;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Net.Http.Headers;

namespace CapiMiddleware.Tests.Security;

/// <summary>
/// Issue 14, item 4: the cookie that carries the Pixel's copy across a redirect (<c>_capi_px</c>) cannot be replayed:
/// its lifetime is enforced by the server, and each event it carries reaches a page once.
/// </summary>
public sealed class CarriedPixelEventsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly PendingPixelEvents _pending;

    public CarriedPixelEventsTests() =>
        _pending = new PendingPixelEvents(new EphemeralDataProtectionProvider(), _time, NullLogger<PendingPixelEvents>.Instance);

    [Fact]
    public void A_carried_event_reaches_the_next_page_once_and_a_replayed_cookie_shows_it_no_more()
    {
        var cookie = Carry(Purchase("ord-1"));

        var first = _pending.Take(RequestWith(cookie));
        Assert.Equal("ord-1", Assert.Single(first).EventId);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(_pending.Take(RequestWith(cookie))); // the same value, sent again
        Assert.Empty(_pending.Take(RequestWith(cookie)));
    }

    [Fact]
    public async Task In_the_app_a_captured_carry_cookie_replayed_on_later_pages_renders_nothing()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);
        using var redirect = await app.Client.PostAsync("/lead?outcome=redirect", TestApp.Form());
        var captured = SetCookieHeaderValue.ParseList(redirect.Headers.GetValues("Set-Cookie").ToList())
            .Single(c => c.Name == PendingPixelEvents.CookieName).Value.ToString();

        Assert.Single(PageData.Events(await GetPageAsync(app, captured)));
        Assert.Empty(PageData.Events(await GetPageAsync(app, captured))); // the attacker's replay
        Assert.Empty(PageData.Events(await GetPageAsync(app, captured)));
    }

    [Fact]
    public void A_captured_value_is_worthless_after_its_ten_minutes_even_if_never_shown()
    {
        var cookie = Carry(Purchase("ord-2"));

        _time.Advance(PendingPixelEvents.Lifetime + TimeSpan.FromSeconds(1));

        Assert.Empty(_pending.Take(RequestWith(cookie)));
    }

    [Fact]
    public void Within_its_lifetime_a_value_not_yet_shown_is_shown()
    {
        var cookie = Carry(Purchase("ord-3"));

        _time.Advance(PendingPixelEvents.Lifetime - TimeSpan.FromSeconds(1));

        Assert.Single(_pending.Take(RequestWith(cookie)));
    }

    [Fact]
    public void Events_added_to_a_carried_value_are_each_shown_once()
    {
        var first = Carry(Purchase("ord-4"));
        var both = Carry(Purchase("ord-5"), RequestWith(first)); // a second redirect before any page rendered

        Assert.Equal(["ord-4", "ord-5"], _pending.Take(RequestWith(both)).Select(e => e.EventId));
        Assert.Empty(_pending.Take(RequestWith(first)));
    }

    [Fact]
    public void What_it_remembers_is_bounded_and_forgotten_after_the_lifetime()
    {
        for (var i = 0; i < PendingPixelEvents.MaxRemembered + 50; i++)
        {
            Assert.Single(_pending.Take(RequestWith(Carry(Purchase("ord-b" + i)))));
        }

        Assert.Equal(PendingPixelEvents.MaxRemembered, _pending.RememberedCount);

        var early = Carry(Purchase("ord-late"));
        _time.Advance(PendingPixelEvents.Lifetime + TimeSpan.FromSeconds(1));
        Assert.Single(_pending.Take(RequestWith(Carry(Purchase("ord-after")))));
        Assert.Equal(1, _pending.RememberedCount); // the others' lifetime is over: forgotten
        Assert.Empty(_pending.Take(RequestWith(early))); // expired, and never shown
    }

    [Fact]
    public void A_value_protected_for_the_earlier_format_without_expiry_is_skipped()
    {
        var legacy = new EphemeralDataProtectionProvider().CreateProtector("CapiMiddleware.PendingPixelEvents.v1").Protect("[]"u8.ToArray());
        Assert.Empty(_pending.Take(RequestWith(System.Buffers.Text.Base64Url.EncodeToString(legacy))));
    }

    private static PixelEvent Purchase(string id) => new("track", "Purchase", id, new GraphCustomData { Value = 10m, Currency = "USD" });

    private string Carry(PixelEvent pixelEvent, DefaultHttpContext? context = null)
    {
        context ??= new DefaultHttpContext();
        _pending.Carry(context, [pixelEvent]);
        var setCookie = SetCookieHeaderValue.ParseList(context.Response.Headers.SetCookie.ToArray()!)
            .Last(c => c.Name == PendingPixelEvents.CookieName);
        Assert.Equal(TimeSpan.FromMinutes(10), setCookie.MaxAge);
        return setCookie.Value.ToString();
    }

    private static DefaultHttpContext RequestWith(string cookie)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = $"{PendingPixelEvents.CookieName}={cookie}";
        return context;
    }

    private static async Task<string> GetPageAsync(TestApp app, string carried)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/page");
        request.Headers.Add("Cookie", $"{PendingPixelEvents.CookieName}={carried}");
        using var response = await app.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
