using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CapiMiddleware.Events;
using CapiMiddleware.Tests.Infrastructure;
using CsCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CapiMiddleware.Tests.Security;

/// <summary>
/// The hostile-input suite: at least 10,000 generated requests with hostile cookies, click IDs, event ID headers,
/// form values, referrers and client addresses, sent as raw bytes to the app with the library and to the same app with
/// it switched off. For each: no exception reaches the request, the app answers as it would without the library, no
/// header is injected into Set-Cookie, the page's JSON block parses back to the same data, and the logs hold no raw
/// personal data and no token.
/// </summary>
public sealed partial class HostileInputTests(ITestOutputHelper output)
{
    private const int Requests = 10_000;

    private static readonly string[] Nasty =
    [
        "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "</script><script>alert(1)</script>",
        "\r\nSet-Cookie: evil=1", "%0d%0aSet-Cookie:%20evil=1", "a\nb", ";", ",", "=", "\"", "'", "\\", "\0",
        "fb.1.2.3.4.5.6", "fb.1.1700000000000.AbC", "fb.1.1700000000000.AbC.AQQCAQMC", "fb.1.1700000000000.AbC;evil=1",
        "fb.99999.1.x", "fb..", "\u2028\u2029", "😀", "ＡＢＣ１２３", "İı", "\u202Eevil", "{{7*7}}", "${jndi:ldap://x}",
        "null", "NaN", "../../etc/passwd", "%", "%zz", "%00", "+", "a b",
    ];

    private static readonly Gen<string> Hostile = Gen.Frequency(
        (4, Gen.OneOf(Nasty)),
        (3, Gen.Char["\r\n;,\"'<>%&=. \t\\/abcXYZ019-_"].Array[0, 40].Select(chars => new string(chars))),
        (2, Gen.String[0, 30]),
        (1, Gen.Int[100, 12_000].Select(n => new string('x', n))),
        (2, Gen.Select(Gen.OneOf(Nasty), Gen.Char.AlphaNumeric.Array[0, 12], (a, b) => a + new string(b))));

    private static readonly Gen<string> Email = Gen.Frequency(
        (3, Gen.Char.AlphaNumeric.Array[3, 12].Select(a => "Buyer." + new string(a) + "@Example.com")),
        (1, Hostile));

    private static readonly Gen<string> ClientAddress = Gen.OneOf(
        Gen.OneOf("203.0.113.9", "10.0.0.1", "::1", "::ffff:198.51.100.7", "2001:db8::1", "fe80::1%eth0", "999.1.1.1",
            "1.2.3.4, 5.6.7.8", "unknown", "", "[2001:db8::1]:443", "0.0.0.0"),
        Hostile);

    private static readonly Gen<HostileRequest> Request =
        Gen.Select(
            Gen.Select(Gen.OneOf("lead", "page", "echo", "plain"), Hostile, Hostile, Hostile),
            Gen.Select(Hostile, Hostile, Hostile, ClientAddress),
            Gen.Select(Email, Hostile, Gen.Frequency((50, Gen.Const(0)), (1, Gen.Const(1_000_000)))),
            (a, b, c) => new HostileRequest(a.Item1, a.Item2, a.Item3, a.Item4, b.Item1, b.Item2, b.Item3, b.Item4, c.Item1, c.Item2, c.Item3));

    [Fact]
    public async Task Ten_thousand_hostile_requests_break_nothing()
    {
        await using var withLibrary = await StartAsync(enabled: true);
        await using var without = await StartAsync(enabled: false);
        var emails = new ConcurrentBag<string>();
        var tried = 0;

        await Request.SampleAsync(async request =>
        {
            Interlocked.Increment(ref tried);
            emails.Add(request.Email);
            var bytes = request.ToBytes();
            var actual = await RawHttp.SendAsync(withLibrary.BaseUrl, bytes);
            var expected = await RawHttp.SendAsync(without.BaseUrl, bytes);

            // The app's own answer, untouched: the same status, and the same body once the library's two tags are taken out.
            Assert.Equal(expected.Status, actual.Status);
            Assert.Equal(expected.Body, LibraryMarkup().Replace(actual.Body, ""));

            foreach (var cookie in actual.All("Set-Cookie"))
            {
                Assert.Matches(SafeSetCookie(), cookie);
            }

            Assert.Equal(expected.Headers.Count(h => h.Name != "Set-Cookie"), actual.Headers.Count(h => h.Name != "Set-Cookie"));

            if (actual.Body.Contains("<!DOCTYPE html>", StringComparison.Ordinal))
            {
                var block = PageData.Read(actual.Body);
                Assert.Equal(1, block.GetProperty("v").GetInt32());
                var events = block.GetProperty("events").EnumerateArray().ToList();
                if (request.Endpoint == "page")
                {
                    Assert.Empty(events); // no conversion on this page
                }
                else if (request.HeadersAreWellFormed)
                {
                    if (EventIds.IsValidBrowserEventId(request.EventId.Trim(' ', '\t'))) // header values arrive trimmed
                    {
                        // The browser has already sent its copy with its own ID: nothing for the Pixel here.
                        Assert.Empty(events);
                    }
                    else if (!string.IsNullOrWhiteSpace(request.Note) && request.FormWasParsedIntact && request.EffectiveUserAgent.Trim(' ', '\t').Length <= 1024)
                    {
                        // (A user agent over 1,024 characters is not a browser's: such a website event is refused, with a
                        // warning, rather than sent to sink a batch at Meta.)
                        Assert.Equal(request.Note, Assert.Single(events).GetProperty("data").GetProperty("note").GetString());
                    }
                }
            }
        }, iter: Requests, threads: 2, seed: "0N0XIzNsQ0O2");

        output.WriteLine($"{tried} hostile requests tried, each against the app with and without the library.");
        Assert.True(tried >= Requests);

        var logs = withLibrary.Logs.Lines;
        var errors = logs.Where(l => l.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, "Errors in the log:\n" + string.Join("\n", errors.Take(3).Select(e => e.Message + " " + e.Exception)));
        Assert.DoesNotContain(logs, l => l.Message.Contains("test-token", StringComparison.Ordinal));

        // Every email-like string the library logged, against every raw email the visitors sent: none may match.
        var logged = logs.Where(l => l.Category.StartsWith("CapiMiddleware", StringComparison.Ordinal))
            .SelectMany(l => EmailLike().Matches(l.Message).Select(m => m.Value.ToLowerInvariant()))
            .ToHashSet();
        var sent = emails.Where(e => e.Contains('@')).Select(e => e.Trim().ToLowerInvariant()).ToHashSet();
        Assert.Empty(logged.Intersect(sent));
        output.WriteLine($"{logs.Count} log lines checked; {sent.Count} distinct raw emails sent, none logged.");
    }

    [GeneratedRegex(@"[^\s""',;<>()\[\]{}]+@[^\s""',;<>()\[\]{}]+")]
    private static partial Regex EmailLike();

    private static Task<TestApp> StartAsync(bool enabled) => TestApp.StartAsync(
        o =>
        {
            o.Enabled = enabled;
            o.QueueCapacity = 50_000;
        },
        beforeLibrary: app =>
        {
            // Trust any X-Forwarded-For, so odd client addresses reach the library.
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = null };
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            app.UseForwardedHeaders(forwarded);
        });

    [GeneratedRegex("<script type=\"application/json\" id=\"meta-capi-data\">.*?</script>\n<script src=\"/_capi/meta-capi\\.[0-9a-f]{12}\\.js\" defer nonce=\"test-nonce\"></script>", RegexOptions.Singleline)]
    private static partial Regex LibraryMarkup();

    // Only Meta's two cookies (Meta's format, nothing injected) or the data-protected carry-over cookie.
    [GeneratedRegex(@"^(_fbc=fb\.\d{1,4}\.\d{13}\.[A-Za-z0-9_-]{1,500}|_fbp=fb\.\d{1,4}\.\d{13}\.\d{1,10}); max-age=7776000; path=/; samesite=lax$|^_capi_px=[A-Za-z0-9_-]+; max-age=600; path=/; samesite=lax; httponly$")]
    private static partial Regex SafeSetCookie();

    public sealed record HostileRequest(
        string Endpoint, string Fbclid, string Fbc, string Fbp,
        string EventId, string Referer, string UserAgent, string XForwardedFor,
        string Email, string Note, int Padding)
    {
        /// <summary>Whether the note survives form encoding as a value the app reads back unchanged.</summary>
        /// <summary>The user agent sent: a blank one would be no user agent at all, so a browser's stands in.</summary>
        public string EffectiveUserAgent => string.IsNullOrWhiteSpace(UserAgent) ? TestApp.UserAgent : UserAgent;

        public bool FormWasParsedIntact => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(Note)) == Note;

        /// <summary>
        /// Whether every header value is printable ASCII: otherwise the bytes change how the server frames the request
        /// (a bare line feed ends a header early), so the form may never reach the action, with or without the library.
        /// </summary>
        public bool HeadersAreWellFormed => new[] { Fbc, Fbp, EventId, Referer, EffectiveUserAgent, XForwardedFor }
            .All(v => v.All(c => c is >= ' ' and <= '~' or '\t'));

        public byte[] ToBytes()
        {
            var target = Endpoint switch
            {
                "lead" => "/lead?outcome=view&fbclid=" + Uri.EscapeDataString(Fbclid),
                "page" => "/page?fbclid=" + Uri.EscapeDataString(Fbclid),
                "echo" => "/echo?fbclid=" + Uri.EscapeDataString(Fbclid),
                _ => "/plain?fbclid=" + Uri.EscapeDataString(Fbclid),
            };
            var method = Endpoint is "lead" or "echo" ? "POST" : "GET";
            var form = $"email={Uri.EscapeDataString(Email)}&note={Uri.EscapeDataString(Note)}";
            if (Padding > 0)
            {
                form += "&padding=" + new string('p', Padding);
            }

            var body = method == "POST" ? Encoding.UTF8.GetBytes(form) : [];
            return RawHttp.Build(method, target,
            [
                ("User-Agent", EffectiveUserAgent),
                ("Accept", "text/html"),
                ("Cookie", $"_fbc={Fbc}; _fbp={Fbp}; other=1"),
                ("Referer", Referer),
                ("X-Meta-Event-Id", EventId),
                ("X-Forwarded-For", XForwardedFor),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ], body);
        }

        public override string ToString() => JsonSerializer.Serialize(new[]
        {
            Endpoint, Short(Fbclid), Short(Fbc), Short(Fbp), Short(EventId), Short(Referer), Short(UserAgent),
            Short(XForwardedFor), Short(Email), Short(Note), Padding.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        private static string Short(string value) => value.Length <= 60 ? value : $"{value[..20]}…({value.Length} chars)";
    }
}
