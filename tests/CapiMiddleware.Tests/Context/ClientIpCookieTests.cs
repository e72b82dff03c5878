using System.Net;
using CapiMiddleware.Context;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Tests.Context;

/// <summary>
/// Issue 15, part 3: the browser's own address (<c>_fbi</c>), IPv6 first, in Meta's Parameter Builder's order; and
/// <c>GET /_capi/ip</c>, where the snippet learns it.
/// </summary>
public sealed class ClientIpCookieTests
{
    private const string PublicV6 = "2a03:2880:f10e:83:face:b00c:0:25de";
    private const string OtherV6 = "2a03:2880:f12d:83:face:b00c:0:25de";

    [Theory]
    [InlineData(PublicV6, "157.240.22.35", PublicV6)] // IPv6 from the cookie first
    [InlineData("31.13.64.35", OtherV6, OtherV6)] // then the request's IPv6
    [InlineData("31.13.64.35", "157.240.22.35", "31.13.64.35")] // then the cookie's IPv4
    [InlineData("10.0.0.1", "157.240.22.35", "157.240.22.35")] // a private cookie never
    [InlineData("fd00::5", "157.240.22.35", "157.240.22.35")]
    [InlineData(null, "127.0.0.1", null)] // loopback never
    [InlineData(PublicV6, "127.0.0.1", PublicV6)] // behind a local proxy, the cookie still tells
    public void The_address_sent_follows_Meta_s_order(string? cookie, string request, string? expected) =>
        Assert.Equal(expected, ClientAddress.ForMeta(cookie is null ? null : IPAddress.Parse(cookie), IPAddress.Parse(request), out _));

    [Theory]
    [InlineData("31.13.64.35", "31.13.64.35")]
    [InlineData("31.13.64.35.BA", "31.13.64.35")]
    [InlineData("31.13.64.35.AQYCAQMC.AQYCAQMC", "31.13.64.35")] // Meta's client builder can repeat its appendix
    [InlineData(PublicV6 + ".AQ", PublicV6)]
    [InlineData("31.13.64", null)] // IPAddress.Parse would read 31.13.0.64
    [InlineData("31.13.64.35.XY", null)]
    [InlineData("fe80::1%eth0", null)]
    [InlineData("[2a03:2880::1]", null)]
    [InlineData("<script>", null)]
    [InlineData("", null)]
    public void The_cookie_is_an_address_and_at_most_Meta_s_appendixes(string value, string? expected) =>
        Assert.Equal(expected, ClientAddress.FromCookie(value)?.ToString());

    [Fact]
    public void An_oversized_cookie_is_ignored() =>
        Assert.Null(ClientAddress.FromCookie(string.Concat(Enumerable.Repeat("1", 200))));

    [Fact]
    public async Task Events_carry_the_browser_s_IPv6_from_the_cookie()
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/lead?outcome=view") { Content = TestApp.Form() };
        request.Headers.Add("Cookie", $"_fbi={PublicV6}.AQ");
        (await app.Client.SendAsync(request)).EnsureSuccessStatusCode();

        var sent = Assert.Single(await app.Graph!.WaitForEventsAsync(1, TimeSpan.FromSeconds(10)));
        Assert.Equal(PublicV6, sent.GetProperty("user_data").GetProperty("client_ip_address").GetString());
    }

    [Fact]
    public async Task The_ip_endpoint_answers_the_caller_s_address_never_cached_and_to_pages_of_the_same_site_only()
    {
        await using var app = await TestApp.StartAsync(sendToGraph: false);
        async Task<HttpResponseMessage> GetAsync(string? origin, string host = "ipv6.shop.example")
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/_capi/ip");
            request.Headers.Host = host;
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }

            return await app.Client.SendAsync(request);
        }

        using var own = await GetAsync("https://www.shop.example");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal("127.0.0.1", await own.Content.ReadAsStringAsync());
        Assert.Equal("no-store", own.Headers.CacheControl!.ToString());
        Assert.Equal("https://www.shop.example", own.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var foreign = await GetAsync("https://attacker.example");
        Assert.Equal(HttpStatusCode.OK, foreign.StatusCode);
        Assert.False(foreign.Headers.Contains("Access-Control-Allow-Origin")); // its page cannot read the answer
        using var suffix = await GetAsync("https://other.azurewebsites.net", "myshop.azurewebsites.net");
        Assert.False(suffix.Headers.Contains("Access-Control-Allow-Origin")); // a public suffix is no shared site
    }

    [Fact]
    public async Task The_data_block_names_the_ip_endpoint_when_it_is_configured()
    {
        await using var app = await TestApp.StartAsync(o => o.ClientIpEndpoint = "https://ipv6.shop.example/_capi/ip", sendToGraph: false);
        var block = PageData.Read(await app.Client.GetStringAsync("/page"));
        Assert.Equal("https://ipv6.shop.example/_capi/ip", block.GetProperty("ipEndpoint").GetString());
    }
}
