using CapiMiddleware.Cookies;

namespace CapiMiddleware.Tests.Cookies;

/// <summary>
/// Issue 15: cookies go on the registrable domain a browser would allow, by the Public Suffix List embedded in the
/// assembly, so the server's write replaces the Pixel's instead of adding a sibling.
/// </summary>
public sealed class PublicSuffixListTests
{
    [Theory]
    [InlineData("www.example.co.uk", "example.co.uk")]
    [InlineData("a.b.example.com", "example.com")]
    [InlineData("example.com", "example.com")]
    [InlineData("WWW.Example.COM", "Example.COM")]
    [InlineData("www.example.com.", "example.com")]
    [InlineData("myshop.azurewebsites.net", "myshop.azurewebsites.net")] // a private-section suffix
    [InlineData("www.myshop.azurewebsites.net", "myshop.azurewebsites.net")]
    [InlineData("shop.github.io", "shop.github.io")]
    [InlineData("www.shop.test", "shop.test")] // no rule: the implicit "*" makes the last label the suffix
    [InlineData("foo.bar.ck", "foo.bar.ck")] // "*.ck": every x.ck is a suffix
    [InlineData("www.ck", "www.ck")] // "!www.ck": an exception to it
    [InlineData("a.www.ck", "www.ck")]
    [InlineData("www.city.kawasaki.jp", "city.kawasaki.jp")] // "!city.kawasaki.jp" beside "*.kawasaki.jp"
    [InlineData("shop.xn--p1ai", "shop.xn--p1ai")] // .рф, listed in Unicode, matched in punycode
    public void The_registrable_domain_is_the_public_suffix_and_one_label(string host, string expected) =>
        Assert.Equal(expected, PublicSuffixList.Default.RegistrableDomain(host).ToString());

    [Theory]
    [InlineData("localhost")]
    [InlineData("shop.localhost")]
    [InlineData("intranet")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("2001:db8::1")]
    [InlineData("co.uk")] // a public suffix itself
    [InlineData("azurewebsites.net")]
    [InlineData("x.ck")]
    [InlineData("a..example.com")]
    [InlineData(".example.com")]
    [InlineData("")]
    public void Hosts_without_a_registrable_domain_get_host_only_cookies(string host) =>
        Assert.True(PublicSuffixList.Default.RegistrableDomain(host).IsEmpty, host);

    [Fact]
    public void The_embedded_list_is_whole()
    {
        // Both sections: ICANN's and the private one (the snapshot's date is in docs/cookies.md).
        Assert.True(PublicSuffixList.Default.Count > 9000, $"{PublicSuffixList.Default.Count} rules");
    }

    [Theory]
    [InlineData("www.example.co.uk", "example.co.uk", 2)]
    [InlineData("a.b.example.com", "example.com", 1)]
    [InlineData("myshop.azurewebsites.net", "myshop.azurewebsites.net", 2)]
    public void The_subdomain_index_follows_the_domain_written(string host, string domain, int index)
    {
        Assert.Equal(domain, MetaCookies.CookieDomainFor(null, host));
        Assert.Equal(index, MetaCookies.SubdomainIndex(MetaCookies.CookieDomainFor(null, host), host));
    }
}

/// <summary>Issue 15: a request may carry several values of one cookie name; each rule picks one, from all of them.</summary>
public sealed class SeveralCookieValuesTests
{
    [Theory]
    [InlineData("_fbc=fb.1.1700000000000.Old; _fbc=fb.1.1800000000000.New", "fb.1.1800000000000.New")]
    [InlineData("_fbc=fb.1.1800000000000.New; _fbc=fb.1.1700000000000.Old", "fb.1.1800000000000.New")]
    [InlineData("_fbc=fb.1.999.Short; _fbc=fb.1.1000.Longer", "fb.1.1000.Longer")] // compared as numbers
    [InlineData("_fbc=garbage; _fbc=fb.1.1700000000000.Only", "fb.1.1700000000000.Only")]
    [InlineData("_fbc=fb.1.1700000000000.First; _fbc=fb.2.1700000000000.Second", "fb.1.1700000000000.First")] // a tie keeps the first
    public void The_click_id_with_the_newest_creation_time_wins(string header, string expected)
    {
        Assert.Equal(expected, MetaCookies.SelectClickId(header, out var count).ToString());
        Assert.Equal(2, count);
    }

    [Theory]
    [InlineData("_fbp=fb.1.1800000000000.222; _fbp=fb.1.1700000000000.111", "fb.1.1800000000000.222")]
    [InlineData("_fbp=bad; _fbp=fb.1.1700000000000.111", "fb.1.1700000000000.111")]
    public void The_first_valid_browser_id_in_header_order_wins(string header, string expected)
    {
        Assert.Equal(expected, MetaCookies.SelectBrowserId(header, out var count).ToString());
        Assert.Equal(2, count);
    }

    [Fact]
    public void Values_are_read_across_several_cookie_header_lines()
    {
        var header = new Microsoft.Extensions.Primitives.StringValues(["a=1; _fbc=fb.1.1700000000000.Old", "_fbc=fb.1.1900000000000.New"]);
        Assert.Equal("fb.1.1900000000000.New", MetaCookies.SelectClickId(header, out var count).ToString());
        Assert.Equal(2, count);
    }
}
