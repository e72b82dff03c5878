using System.Net;
using System.Net.Sockets;
using CapiMiddleware.Context;
using Xunit.Abstractions;

namespace CapiMiddleware.Tests.Reference;

/// <summary>
/// Issue 15, part 3: the client IP address an event carries is the one Meta's Parameter Builder 1.3 picks from the
/// same <c>_fbi</c> cookie and connection address: public IPv6 from the cookie, public IPv6 from the request, public
/// IPv4 from the cookie, public IPv4 from the request; private and loopback never. Addresses are compared as addresses
/// (the builder passes the cookie's text on as it is, the library sends the canonical form) and the builder's appendix
/// is set aside. Where the library differs on purpose, the case is counted under a named <see cref="Exclusion"/>.
/// </summary>
[Collection(DifferentialSuite.Name)]
public sealed class ClientIpDifferentialTests(ParameterBuilder reference, ITestOutputHelper output) : IClassFixture<ParameterBuilder>
{
    /// <summary>The library's deliberate differences from the reference's client IP decision.</summary>
    public enum Exclusion
    {
        /// <summary>
        /// (1) An IPv4-mapped IPv6 address (<c>::ffff:31.13.64.35</c>) is the IPv4 address it carries, in the IPv4 tier, as
        /// Meta's reference asks (unwrap IPv4-mapped addresses); the builder takes it for a public IPv6 address.
        /// </summary>
        MappedIPv4 = 1,

        /// <summary>
        /// (2) "This network" (<c>0.0.0.0/8</c>) and the unspecified IPv6 address are no visitor's; the builder's private
        /// ranges leave them out and it would send them.
        /// </summary>
        UnspecifiedAddress = 2,

        /// <summary>
        /// (3) A private or loopback IPv6 address written out in full (<c>0:0:0:0:0:0:0:1</c>, <c>FE80::1</c> in capitals
        /// is the same) is private whatever its spelling; the builder compares text prefixes and takes some spellings
        /// for public.
        /// </summary>
        SpelledPrivateIPv6 = 3,
    }

    private static readonly string?[] Cookies =
    [
        null,
        "2a03:2880:f10e:83:face:b00c:0:25de",
        "2a03:2880:f10e:83:face:b00c:0:25de.AQ",
        "2a03:2880:f10e:83:face:b00c:0:25de.AQQCAQMC",
        "2A03:2880:F10E:83:FACE:B00C::25DE",
        "31.13.64.35",
        "31.13.64.35.BA",
        "31.13.64.35.BA.BA",
        "157.240.1.35.AQYCAQMC",
        "10.1.2.3",
        "192.168.1.5",
        "172.16.0.9",
        "169.254.10.1",
        "127.0.0.1",
        "0.1.2.3",
        "::1",
        "0:0:0:0:0:0:0:1",
        "fe80::1",
        "FE80::1",
        "fd00::5",
        "::ffff:31.13.64.35",
        "fe80::1%eth0",
        "not-an-ip",
        "31.13.64",
        "",
    ];

    private static readonly string?[] Remotes =
    [
        null, "157.240.22.35", "2a03:2880:f12d:83:face:b00c:0:25de", "10.0.0.7", "127.0.0.1", "::1", "::ffff:157.240.22.35", "fd12::1",
    ];

    [Fact]
    public async Task The_client_ip_decision_is_Meta_s_Parameter_Builder_s()
    {
        var cases = (from cookie in Cookies from remote in Remotes select new[] { cookie, remote }).ToList();
        var expected = await reference.ClientIpsAsync(cases);
        var identical = 0;
        var excluded = new Dictionary<Exclusion, int>();
        var disagreements = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var (cookie, remote) = (cases[i][0], cases[i][1]);
            var actual = ClientAddress.ForMeta(
                cookie is null ? null : ClientAddress.FromCookie(cookie),
                remote is null ? null : IPAddress.Parse(remote),
                out _);
            var wanted = Canonical(expected[i]);
            if (actual == wanted)
            {
                identical++;
            }
            else if (Explain(cookie, remote, wanted) is { } exclusion)
            {
                excluded[exclusion] = excluded.GetValueOrDefault(exclusion) + 1;
            }
            else
            {
                disagreements.Add($"_fbi {cookie ?? "(none)"}, request {remote ?? "(none)"}: reference {expected[i] ?? "null"}, library {actual ?? "null"}");
            }
        }

        output.WriteLine($"Client IP: {Cookies.Length} _fbi values x {Remotes.Length} request addresses = {cases.Count} cases: " +
            $"{identical} identical, {excluded.Values.Sum()} after named exclusions, {disagreements.Count} differ");
        foreach (var exclusion in Enum.GetValues<Exclusion>())
        {
            output.WriteLine($"    ({(int)exclusion}) {exclusion,-20} {excluded.GetValueOrDefault(exclusion),4} cases");
        }

        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
        Assert.True(identical > cases.Count / 2, $"only {identical} identical");
    }

    /// <summary>Which deliberate difference explains a case, judged from its inputs and the reference's answer, never from the library's.</summary>
    private static Exclusion? Explain(string? cookie, string? remote, string? wanted)
    {
        static bool IsMapped(string? text) => text is not null && IPAddress.TryParse(text, out var a) && a.IsIPv4MappedToIPv6;
        if (IsMapped(cookie) || IsMapped(remote))
        {
            return Exclusion.MappedIPv4;
        }

        if (wanted is null || !IPAddress.TryParse(wanted, out var picked))
        {
            return null;
        }

        if (picked.Equals(IPAddress.IPv6Any) || (picked.AddressFamily == AddressFamily.InterNetwork && picked.GetAddressBytes()[0] == 0))
        {
            return Exclusion.UnspecifiedAddress;
        }

        return picked.AddressFamily == AddressFamily.InterNetworkV6 && ClientAddress.IsLoopbackOrPrivate(picked) ? Exclusion.SpelledPrivateIPv6 : null;
    }

    private static string? Canonical(string? address) =>
        address is not null && IPAddress.TryParse(address, out var parsed) ? parsed.ToString() : address;
}
