using CapiMiddleware.Cookies;

namespace CapiMiddleware.Tests.Cookies;

public sealed class MetaCookiesTests
{
    [Theory]
    [InlineData("fb.1.1596403881668.1116446470")]
    [InlineData("fb.0.1596403881668.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk")]
    [InlineData("fb.1.1700000000000.IwAR2.AQQCAQMC")]
    [InlineData("fb.2.1700000000000.1234567890.Bg")]
    [InlineData("fb.1.1700000000000.1234567890.AQEAAQMC")]
    [InlineData("fb.1.1700000000000.1234567890.AQb_-xyz")]
    public void Well_formed_values_with_four_or_five_segments_are_accepted(string value) =>
        Assert.True(MetaCookies.IsValid(value));

    [Theory]
    [InlineData("")]
    [InlineData("fb.1.1700000000000")]
    [InlineData("fb.1.1700000000000.")]
    [InlineData("xx.1.1700000000000.abc")]
    [InlineData("fb.a.1700000000000.abc")]
    [InlineData("fb.1.17000x0000000.abc")]
    [InlineData("fb.1.1700000000000.abc.def.ghi")]
    [InlineData("fb.1.1700000000000.a b")]
    [InlineData("fb.1.1700000000000.a;b")]
    [InlineData("fb.1.1700000000000.a\r\nSet-Cookie: x=y")]
    [InlineData("fb.1.1700000000000.é")]
    [InlineData("fb.1.1700000000000.abc.def")]      // a fifth segment that is no appendix: damaged, as Meta's builder says
    [InlineData("fb.1.1700000000000.abc.")]
    [InlineData("fb.1.1700000000000.abc.XY")]
    [InlineData("fb.1.1700000000000.abc.aq")]
    [InlineData("fb.1.1700000000000.abc.ZZZZZZZZ")]
    [InlineData("fb.1.1700000000000.abc.AQcCAQMC")] // language 7
    [InlineData("fb.1.1700000000000.abc.AQDCAQMC")] // language 0
    [InlineData("fb.1.1700000000000.abc.BQQCAQMC")] // format 5
    [InlineData("fb.1.1700000000000.abc.AQQCAQ+C")]
    [InlineData("fb.1.1700000000000.abc.AQQCAQMCX")]
    public void Malformed_values_are_rejected(string value) => Assert.False(MetaCookies.IsValid(value));

    [Fact]
    public void Oversized_values_are_rejected() =>
        Assert.False(MetaCookies.IsValid("fb.1.1700000000000." + new string('a', 600)));

    [Fact]
    public void The_click_id_is_the_fourth_segment_unchanged() =>
        Assert.Equal("IwAR2", MetaCookies.ClickIdOf("fb.1.1700000000000.IwAR2.AQQCAQMC").ToString());

    [Theory]
    [InlineData("AbC-123_xyz", true)]
    [InlineData("IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk", true)]
    [InlineData("", false)]
    [InlineData("abc.def", false)]
    [InlineData("abc def", false)]
    [InlineData("<script>", false)]
    [InlineData("abc%20", false)]
    public void Click_ids_are_taken_only_as_they_are(string fbclid, bool valid) =>
        Assert.Equal(valid, MetaCookies.IsValidFbclid(fbclid));

    [Fact]
    public void Click_ids_over_500_characters_are_ignored_as_Meta_does()
    {
        Assert.True(MetaCookies.IsValidFbclid(new string('a', 500)));
        Assert.False(MetaCookies.IsValidFbclid(new string('a', 501)));
    }

    [Theory]
    [InlineData("example.com", "www.example.com", 1)]
    [InlineData("shop.example.co.uk", "x.shop.example.co.uk", 3)]
    [InlineData(null, "www.example.com", 1)]
    [InlineData(null, "example.com", 1)]
    [InlineData(null, "localhost", 0)]
    [InlineData(null, "127.0.0.1", 0)]
    [InlineData(null, "[::1]", 0)]
    [InlineData(null, "shop.example.co.uk", 2)]
    [InlineData(null, "999.1.1.1", 0)]               // what the builder takes for an IP address
    [InlineData(null, "1.2.3", 1)]
    public void The_subdomain_index_counts_the_dots_of_the_cookie_domain(string? cookieDomain, string host, int expected) =>
        Assert.Equal(expected, MetaCookies.SubdomainIndex(cookieDomain, host));
}

public sealed class CookieDomainTests
{
    [Theory]
    [InlineData(null, "www.example.com", "example.com")]
    [InlineData(null, "localhost", null)]
    [InlineData("example.com", "example.com", "example.com")]
    [InlineData("example.com", "WWW.Example.COM", "example.com")]
    [InlineData("example.com", "localhost", null)]
    [InlineData("example.com", "badexample.com", null)]
    [InlineData("example.com", "127.0.0.1", null)]
    public void The_configured_domain_is_used_only_for_hosts_inside_it_and_without_one_the_registrable_domain(string? configured, string host, string? expected) =>
        Assert.Equal(expected, MetaCookies.CookieDomainFor(configured, host));

    [Fact]
    public void A_host_outside_the_configured_domain_gets_the_index_of_its_own_host_only_cookie()
    {
        Assert.Equal(0, MetaCookies.SubdomainIndex(MetaCookies.CookieDomainFor("example.com", "localhost"), "localhost"));
        Assert.Equal(1, MetaCookies.SubdomainIndex(MetaCookies.CookieDomainFor("example.com", "www.example.com"), "www.example.com"));
    }
}

public sealed class ClickIdCaptureTests
{
    private const long Now = 1_800_000_000_000;

    [Fact]
    public void A_new_click_sets_fbc_and_mints_fbp()
    {
        var decision = ClickIdCapture.Decide(default, false, "AbC-123_xyz", mintBrowserId: false, 1, Now, () => 42);
        Assert.Equal("fb.1.1800000000000.AbC-123_xyz", decision.ClickId);
        Assert.Equal("fb.1.1800000000000.42", decision.BrowserId);
    }

    [Fact]
    public void The_same_click_id_keeps_the_cookie_and_its_timestamp()
    {
        var decision = ClickIdCapture.Decide("fb.1.1700000000000.AbC-123_xyz", true, "AbC-123_xyz", true, 1, Now, () => 42);
        Assert.False(decision.HasWork);
    }

    [Fact]
    public void The_same_click_id_in_a_five_segment_cookie_keeps_it()
    {
        var decision = ClickIdCapture.Decide("fb.1.1700000000000.AbC.AQQCAQMC", true, "AbC", true, 1, Now, () => 42);
        Assert.Null(decision.ClickId);
    }

    [Fact]
    public void A_different_click_id_replaces_the_cookie_with_a_new_timestamp()
    {
        var decision = ClickIdCapture.Decide("fb.1.1700000000000.Old", true, "New", true, 1, Now, () => 42);
        Assert.Equal("fb.1.1800000000000.New", decision.ClickId);
        Assert.Null(decision.BrowserId);
    }

    [Fact]
    public void The_click_id_comparison_is_case_sensitive()
    {
        var decision = ClickIdCapture.Decide("fb.1.1700000000000.abc", true, "ABC", true, 1, Now, () => 42);
        Assert.Equal("fb.1.1800000000000.ABC", decision.ClickId);
    }

    [Fact]
    public void Fbp_is_minted_on_a_page_view_only_when_absent()
    {
        Assert.Equal("fb.2.1800000000000.7", ClickIdCapture.Decide(default, false, default, true, 2, Now, () => 7).BrowserId);
        Assert.False(ClickIdCapture.Decide(default, true, default, true, 2, Now, () => 7).HasWork);
        Assert.False(ClickIdCapture.Decide(default, false, default, false, 2, Now, () => 7).HasWork);
    }
}

public sealed class CookieHeaderTests
{
    [Theory]
    [InlineData("_fbp=fb.1.1.2", "fb.1.1.2")]
    [InlineData("a=b; _fbp=fb.1.1.2; c=d", "fb.1.1.2")]
    [InlineData("a=b;_fbp=fb.1.1.2", "fb.1.1.2")]
    [InlineData("x_fbp=1; _fbp=2", "2")]
    [InlineData("_fbp=\"quoted\"", "quoted")]
    public void Finds_the_cookie_byte_for_byte(string header, string expected)
    {
        Assert.True(CookieHeader.TryGetValue(header, "_fbp", out var value));
        Assert.Equal(expected, value.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("_fbc=1")]
    [InlineData("_fbp")]
    [InlineData(";;;=;")]
    public void Reports_a_missing_cookie(string header) => Assert.False(CookieHeader.TryGetValue(header, "_fbp", out _));
}

public sealed class QueryParameterTests
{
    [Theory]
    [InlineData("?fbclid=abc", "abc")]
    [InlineData("?a=1&fbclid=abc&b=2", "abc")]
    [InlineData("fbclid=a%2Db", "a-b")]
    [InlineData("?xfbclid=no&fbclid=yes", "yes")]
    [InlineData("?fbclid=first&fbclid=second", "first")]
    public void Finds_and_decodes_the_parameter(string query, string expected)
    {
        Assert.True(QueryParameter.TryGetValue(query, "fbclid", out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?xfbclid=abc")]
    [InlineData("?fbclid")]
    public void Reports_a_missing_parameter(string query) => Assert.False(QueryParameter.TryGetValue(query, "fbclid", out _));
}
