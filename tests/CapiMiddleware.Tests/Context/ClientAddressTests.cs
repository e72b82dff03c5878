using System.Net;
using CapiMiddleware.Context;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Tests.Context;

public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("172.32.0.1", "172.32.0.1")]
    public void Public_addresses_are_sent_with_mapped_IPv4_unwrapped(string address, string expected)
    {
        Assert.Equal(expected, ClientAddress.ForMeta(IPAddress.Parse(address), out var wasPrivate));
        Assert.False(wasPrivate);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.1.1")]
    [InlineData("::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:10.0.0.1")]
    public void Loopback_and_private_addresses_are_never_sent(string address)
    {
        Assert.Null(ClientAddress.ForMeta(IPAddress.Parse(address), out var wasPrivate));
        Assert.True(wasPrivate);
    }
}

public sealed class MetaRequestContextTests
{
    [Fact]
    public void A_get_reports_its_own_url_and_its_referrer()
    {
        var http = Request("GET", referer: "https://www.google.com/search?q=x");
        var context = http.GetMetaRequestContext();
        Assert.Equal("https://shop.example.com/products/1?fbclid=AbC", context.PageUrl);
        Assert.Equal("https://www.google.com/search?q=x", context.Referrer);
    }

    [Fact]
    public void A_post_happens_on_the_same_site_page_that_sent_it()
    {
        var context = Request("POST", referer: "https://shop.example.com/checkout").GetMetaRequestContext();
        Assert.Equal("https://shop.example.com/checkout", context.PageUrl);
        Assert.Null(context.Referrer);

        var crossSite = Request("POST", referer: "https://evil.example.net/form").GetMetaRequestContext();
        Assert.Equal("https://shop.example.com/products/1?fbclid=AbC", crossSite.PageUrl);
    }

    [Fact]
    public void Cookies_are_read_byte_for_byte_and_malformed_ones_ignored()
    {
        var http = Request("GET", cookie: "_fbc=fb.1.1700000000000.AbC.AQQCAQMC; _fbp=fb.1.x.1");
        var context = http.GetMetaRequestContext();
        Assert.Equal("fb.1.1700000000000.AbC.AQQCAQMC", context.ClickId);
        Assert.Null(context.BrowserId);
    }

    [Theory]
    [InlineData("abc-DEF_123.~", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("<x>", false)]
    public void The_browser_event_id_header_is_validated(string header, bool used)
    {
        var http = Request("POST");
        http.Request.Headers["X-Meta-Event-Id"] = header;
        Assert.Equal(used ? header : null, http.GetMetaRequestContext().BrowserEventId);
    }

    [Fact]
    public void An_oversized_user_agent_is_not_sent()
    {
        var http = Request("GET");
        http.Request.Headers.UserAgent = new string('x', 5000);
        Assert.Null(http.GetMetaRequestContext().UserAgent);
    }

    private static DefaultHttpContext Request(string method, string? referer = null, string? cookie = null)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.Scheme = "https";
        http.Request.Host = new HostString("shop.example.com");
        http.Request.Path = "/products/1";
        http.Request.QueryString = new QueryString("?fbclid=AbC");
        if (referer is not null)
        {
            http.Request.Headers.Referer = referer;
        }

        if (cookie is not null)
        {
            http.Request.Headers.Cookie = cookie;
        }

        return http;
    }
}
