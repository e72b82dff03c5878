using CapiMiddleware.Context;
using CapiMiddleware.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Net.Http.Headers;
using Xunit.Abstractions;
using static CapiMiddleware.Tests.Reference.ParameterBuilder;

namespace CapiMiddleware.Tests.Reference;

/// <summary>
/// Issue 4, cookies: for every request of a matrix (hosts, cookie domains, existing <c>_fbc</c>/<c>_fbp</c>, where the
/// click ID is), the middleware decides what Meta's Parameter Builder decides in <c>processRequest</c>: keep the
/// existing value, write a new <c>_fbc</c> (with which click ID), mint an <c>_fbp</c>, or ignore the input; and the
/// subdomain index of a new value. Timestamps, the random part of <c>_fbp</c> and the builder's appendix are aside.
/// </summary>
/// <remarks>
/// <para>
/// Where the library differs on purpose, the difference is a named <see cref="Exclusion"/>: a precise rewrite of the
/// reference's decision, applied only when its condition holds, and counted on its own. A case is "identical" when no
/// exclusion applies, "identical after exclusions" when the library equals the rewritten decision, and a disagreement
/// otherwise; any disagreement fails the test.
/// </para>
/// <para>
/// Not compared: the Domain attribute. Without a configured domain the builder sets Domain to its eTLD+1 guess
/// (<c>co.uk</c> for <c>example.co.uk</c>, which browsers refuse), where the library writes on the registrable domain by
/// the Public Suffix List (exclusion 6 for the index); the test
/// checks instead that every Domain the library writes is one the browser accepts for the host. Also not compared:
/// duplicate <c>fbclid</c> parameters (the library takes the first, the builder's request adaptor the last).
/// </para>
/// </remarks>
[Collection(DifferentialSuite.Name)]
public sealed class CookieDifferentialTests(ParameterBuilder reference, ITestOutputHelper output) : IClassFixture<ParameterBuilder>
{
    private const int ReportedDisagreements = 25;
    private const string Existing = "IwAR2Existing";
    private const string FromQuery = "IwAR2NewClick";
    private const string FromReferer = "IwAR2FromReferer";

    /// <summary>The library's deliberate differences from the reference, each with its reason.</summary>
    public enum Exclusion
    {
        /// <summary>
        /// (1) Only click IDs of 1 to 500 characters of <c>[A-Za-z0-9_-]</c> are stored; the builder takes anything.
        /// Meta's browser library ignores longer ones, and any other character would have to be changed (or the cookie
        /// would break), and Meta rejects a modified click ID.
        /// </summary>
        ClickIdFormat = 1,

        /// <summary>
        /// (2) <c>_fbp</c> is minted on page views (and with a new click ID) only; the builder mints on any request.
        /// An image, script or API call is not a visit, and the Pixel mints on page views too.
        /// </summary>
        BrowserIdOnPageViewsOnly = 2,

        /// <summary>
        /// (3) New values have four segments and a valid existing value is never rewritten; the builder appends its
        /// appendix to what it writes and "upgrades" a four-segment cookie by rewriting it with one. The appendix names
        /// the Meta library that wrote a value: this library is not one, and does not forge its token. The appendix
        /// of a new value is simply set aside; this counts the requests where the builder would upgrade a value.
        /// </summary>
        NoAppendix = 3,

        /// <summary>
        /// (4) An existing value that no Meta library or this one writes (over 564 characters, an index over 4 digits,
        /// a time over 20, or whitespace, quotes, backslash, comma, semicolon, percent or non-ASCII in it) is treated as
        /// absent; the builder takes any non-empty payload. Meta can reject an event whose click ID is malformed (error
        /// subcode 2804001), losing the whole event, and a percent sign reads differently to a reader that URL-decodes cookies (the builder's
        /// request adaptor does).
        /// </summary>
        UnusualExistingValue = 4,

        /// <summary>
        /// (5) The builder throws on a Referer that is not a URL (anyone can send one); the library never throws. For
        /// these requests the library must decide as the builder does for the same request with a well-formed Referer
        /// that carries the same click ID.
        /// </summary>
        ReferenceThrows = 5,

        /// <summary>
        /// (6) Without a configured cookie domain, cookies go on the host's registrable domain by the Public Suffix List,
        /// as a browser decides it and Meta's Pixel ends up writing, and the subdomain index follows that domain; the
        /// builder guesses by dropping the host's first label: <c>a.b.example.com</c> → <c>b.example.com</c> (index 2,
        /// the library 1, for <c>example.com</c>), <c>myshop.azurewebsites.net</c> → <c>azurewebsites.net</c>, a private
        /// suffix that browsers refuse as a cookie domain (index 1, the library 2, for the host itself).
        /// </summary>
        RegistrableDomain = 6,
    }

    private enum CookieAction
    {
        None,
        Keep,
        Write,
    }

    /// <summary>One cookie's decision: nothing, keep the existing value, or write a new one (click ID and index).</summary>
    private readonly record struct Decision(CookieAction Action, string? ClickId = null, int Index = -1)
    {
        public override string ToString() => Action switch
        {
            CookieAction.Write => ClickId is null ? $"mint(i={Index})" : $"write({Shorten(ClickId)}, i={Index})",
            _ => Action.ToString().ToLowerInvariant(),
        };
    }

    private readonly record struct Decisions(Decision Fbc, Decision Fbp)
    {
        public override string ToString() => $"_fbc {Fbc}, _fbp {Fbp}";
    }

    private sealed record CookieState(string Name, string? Fbc, string? Fbp);

    /// <param name="ReferenceClickId">The click ID the builder takes from this source (the test's own statement, checked).</param>
    /// <param name="TwinOf">For a source the builder throws on: the well-formed source it stands for.</param>
    private sealed record Source(string Name, string Query, string? Referer, string? ReferenceClickId, string? TwinOf = null);

    private static readonly string[] Hosts =
        ["example.com", "www.example.com", "www.example.com:8443", "shop.example.co.uk", "a.b.example.com", "myshop.azurewebsites.net", "localhost", "127.0.0.1", "[::1]:8080"];

    private static readonly CookieState[] States =
    [
        new("absent", null, null),
        new("4 segments", $"fb.1.1700000000000.{Existing}", "fb.1.1700000000000.1116446470"),
        new("5 segments, appendix", $"fb.1.1700000000000.{Existing}.AQQCAQMC", "fb.2.1700000000000.1116446470.AQQAAQMC"),
        new("5 segments, language token", $"fb.1.1700000000000.{Existing}.BA", "fb.1.1700000000000.1116446470.Bg"),
        new("5 segments, bad appendix", $"fb.1.1700000000000.{Existing}.ZZZZZZZZ", "fb.1.1700000000000.1116446470.AQcCAQMC"),
        new("5 segments, bad token", $"fb.1.1700000000000.{Existing}.XY", "fb.1.1700000000000.1116446470.aq"),
        new("3 segments", "fb.1.1700000000000", "fb.1.1700000000000"),
        new("non-numeric", $"fb.1.17000x0000000.{Existing}", "fb.one.1700000000000.1116446470"),
        new("empty payload", "fb.1.1700000000000.", "fb.1.1700000000000..AQ"),
        new("oversized", "fb.1.1700000000000." + new string('A', 600), "fb.1.1700000000000." + new string('1', 600)),
        new("unusual characters", $"fb.1.1700000000000.Iw AR2{Existing}", "fb.1.1700000000000.11164\"46470"),
        new("garbage", "<script>alert(1)</script>", "fb.1.1700000000000.1.2.3"),
    ];

    private static readonly string Long500 = string.Concat(Enumerable.Repeat("IwAR2-_x", 63))[..500];
    private static readonly string Long501 = Long500 + "Z";

    private static readonly Source[] Sources =
    [
        new("none", "?utm_source=fb", null, null),
        new("in the query", $"?fbclid={FromQuery}&utm_source=fb", null, FromQuery),
        new("only in the Referer", "?utm_source=fb", $"https://www.example.com/landing?utm_source=fb&fbclid={FromReferer}#top", FromReferer),
        new("in both (the query wins)", $"?fbclid={FromQuery}", $"https://www.example.com/landing?fbclid={FromReferer}", FromQuery),
        new("the existing one", $"?fbclid={Existing}", null, Existing),
        new("the existing one, only in the Referer", "", $"https://www.example.com/landing?fbclid={Existing}", Existing),
        new("the existing one in another case", $"?fbclid={Existing.ToLowerInvariant()}", null, Existing.ToLowerInvariant()),
        new("empty in the query, in the Referer", "?fbclid=", $"https://www.example.com/?fbclid={FromReferer}", FromReferer),
        new("xfbclid in the query, fbclid in the Referer", $"?xfbclid={FromQuery}", $"https://www.example.com/?fbclid={FromReferer}", FromReferer),
        new("percent-encoded", "?fbclid=IwAR2%2DEncoded%5F1", null, "IwAR2-Encoded_1"),
        new("500 characters", $"?fbclid={Long500}", null, Long500),
        new("501 characters", $"?fbclid={Long501}", null, Long501),
        new("with a dot", "?fbclid=IwAR2.Dotted", null, "IwAR2.Dotted"),
        new("with a space", "?fbclid=IwAR2+Spaced", null, "IwAR2 Spaced"),
        new("after a '?' in the Referer's fragment", "", $"https://www.example.com/landing#top?fbclid={FromReferer}", null),
        new("in a Referer without a scheme", "", $"www.example.com/landing?fbclid={FromReferer}", FromReferer),
        new("in a Referer that is not a URL", "", $"https://www.exa mple.com/landing?fbclid={FromReferer}", FromReferer, TwinOf: "only in the Referer"),
    ];

    [Fact]
    public async Task The_middleware_decides_as_Meta_s_Parameter_Builder_does()
    {
        var cases = Cases().ToArray();
        var matrix = new CookieMatrix(
            Hosts,
            [.. Hosts.Select(h => (string[]?)null), .. Hosts.Select(h => (string[]?)[RegistrableDomain(h)])],
            States.Select(s => s.Fbc).ToArray(),
            States.Select(s => s.Fbp).ToArray(),
            Sources.Select(s => new ClickIdSource(s.Query, s.Referer)).ToArray(),
            cases.Select(c => new[] { c.Host, c.Configured ? Hosts.Length + c.Host : c.Host, c.Fbc, c.Fbp, c.Source }).ToArray());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await reference.ProcessRequestsAsync(matrix);
        var referenceTime = clock.Elapsed;
        Assert.Equal(cases.Length, result.Results.Length);

        // The exclusion of unusual values must be exactly that: the reference and the library accept the same
        // existing values, except those (and the library accepts nothing the reference refuses).
        for (var s = 0; s < States.Length; s++)
        {
            foreach (var (value, referenceAccepts) in new[] { (States[s].Fbc, result.FbcValid[s]), (States[s].Fbp, result.FbpValid[s]) })
            {
                var accepts = value is not null && MetaCookies.IsValid(value);
                Assert.True(
                    accepts == referenceAccepts || (referenceAccepts && IsUnusual(value!)),
                    $"{States[s].Name} '{Shorten(value)}': the reference {(referenceAccepts ? "accepts" : "refuses")} it, the library does not");
            }
        }

        var twins = cases.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var runs = new[] { new Run("page views", pageView: true), new Run("other requests (fetch, images, scripts)", pageView: false) };
        var middlewares = new Dictionary<string, MetaConversionsMiddleware>();
        var logger = new ExceptionLog();
        foreach (var run in runs)
        {
            for (var i = 0; i < cases.Length; i++)
            {
                var c = cases[i];
                var host = Hosts[c.Host];
                var domain = c.Configured ? RegistrableDomain(host) : null;
                var (fbc, fbp) = (States[c.Fbc].Fbc, States[c.Fbp].Fbp);
                var source = Sources[c.Source];

                var labels = new SortedSet<Exclusion>();
                var processed = result.Results[i];
                if (processed.Error is not null)
                {
                    Assert.True(source.TwinOf is not null, $"the reference threw on {Describe(c)}: {processed.Error}");
                    var twin = c with { Source = Array.FindIndex(Sources, s => s.Name == source.TwinOf) };
                    processed = result.Results[twins[twin]];
                    Assert.Null(processed.Error);
                    labels.Add(Exclusion.ReferenceThrows);
                }

                var referenceDecisions = FromReference(processed, fbc, fbp, out var upgraded);
                if (upgraded)
                {
                    labels.Add(Exclusion.NoAppendix);
                }

                CheckReferenceClickId(c, source, processed, referenceDecisions);
                var registrable = domain is null ? PublicSuffixList.Default.RegistrableDomain(new HostString(host).Host).ToString() : "";
                var expected = ApplyExclusions(
                    referenceDecisions, processed.SubdomainIndex, registrable.Length > 0 ? registrable.Count(c => c == '.') : null, fbc, fbp, source, run.PageView, labels);

                if (!middlewares.TryGetValue(domain ?? "", out var middleware))
                {
                    middlewares[domain ?? ""] = middleware = CreateMiddleware(domain, logger);
                }

                var (actual, problem) = RunLibrary(middleware, host, domain, fbc, fbp, source, run.PageView);
                if (problem is null && actual == expected)
                {
                    run.Count(labels);
                }
                else
                {
                    run.Disagreements.Add(
                        $"{Describe(c)}: reference {referenceDecisions}{(labels.Count > 0 ? $" (after {string.Join(", ", labels)}: {expected})" : "")}, " +
                        $"library {actual}{(problem is null ? "" : $"; {problem}")}");
                }
            }
        }

        Assert.Empty(logger.Exceptions);
        output.WriteLine($"The reference took {referenceTime.TotalSeconds:0.0} s, the comparison {(clock.Elapsed - referenceTime).TotalSeconds:0.0} s.");
        output.WriteLine(
            $"Cookie matrix: {Hosts.Length} hosts x 2 cookie domains x {States.Length} _fbc x {States.Length} _fbp x " +
            $"{Sources.Length} click-ID sources = {cases.Length} requests, each as a page view and as another request.");
        foreach (var run in runs)
        {
            output.WriteLine(
                $"{run.Name}: {run.Identical + run.Excluded} of {cases.Length} agree ({run.Identical} identical, " +
                $"{run.Excluded} identical after named exclusions), {run.Disagreements.Count} differ");
            foreach (var exclusion in Enum.GetValues<Exclusion>())
            {
                output.WriteLine($"    ({(int)exclusion}) {exclusion,-26} {run.ByExclusion.GetValueOrDefault(exclusion),6} requests");
            }
        }

        var disagreements = runs.SelectMany(r => r.Disagreements.Select(d => $"[{r.Name}] {d}")).ToList();
        Assert.True(
            disagreements.Count == 0,
            $"{disagreements.Count} decisions differ from Meta's Parameter Builder; the first ones:\n"
            + string.Join("\n", disagreements.Take(ReportedDisagreements)));
    }

    private readonly record struct Case(int Host, bool Configured, int Fbc, int Fbp, int Source);

    private static IEnumerable<Case> Cases()
    {
        for (var h = 0; h < Hosts.Length; h++)
        {
            foreach (var configured in new[] { false, true })
            {
                for (var fbc = 0; fbc < States.Length; fbc++)
                {
                    for (var fbp = 0; fbp < States.Length; fbp++)
                    {
                        for (var s = 0; s < Sources.Length; s++)
                        {
                            yield return new Case(h, configured, fbc, fbp, s);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The cookie domain a site on this host would configure: its registrable domain. Local hosts get the site's
    /// production domain, as a developer running with the production settings would, so they lie outside it.
    /// </summary>
    private static string RegistrableDomain(string host) => host.Contains("co.uk", StringComparison.Ordinal) ? "example.co.uk" : "example.com";

    private static string Describe(Case c) =>
        $"host {Hosts[c.Host]}, cookie domain {(c.Configured ? RegistrableDomain(Hosts[c.Host]) : "none")}, " +
        $"_fbc {States[c.Fbc].Name}, _fbp {States[c.Fbp].Name}, click ID {Sources[c.Source].Name}";

    /// <summary>The reference's decisions, its upgrade of a four-segment value counted as a keep.</summary>
    private static Decisions FromReference(ProcessedRequest processed, string? fbc, string? fbp, out bool upgraded)
    {
        var fbcDecision = FromReference(processed.Fbc, processed.SendsFbc, fbc, isClickId: true, out var fbcUpgraded);
        var fbpDecision = FromReference(processed.Fbp, processed.SendsFbp, fbp, isClickId: false, out var fbpUpgraded);
        upgraded = fbcUpgraded || fbpUpgraded;
        return new Decisions(fbcDecision, fbpDecision);
    }

    private static Decision FromReference(string? written, bool sends, string? existing, bool isClickId, out bool upgraded)
    {
        upgraded = false;
        if (written is null)
        {
            return new Decision(sends ? CookieAction.Keep : CookieAction.None);
        }

        if (existing is not null && written.StartsWith(existing + ".", StringComparison.Ordinal) && written.IndexOf('.', existing.Length + 1) < 0)
        {
            upgraded = true;
            return new Decision(CookieAction.Keep);
        }

        // fb.{index}.{time}.{payload}.{appendix}: the payload (a click ID may hold dots) lies between the third dot
        // and the last one.
        var parts = written.Split('.', 4);
        var payload = parts[3][..parts[3].LastIndexOf('.')];
        return new Decision(CookieAction.Write, isClickId ? payload : null, int.Parse(parts[1]));
    }

    /// <summary>The test's statement of which click ID the builder takes must hold, or the comparison means nothing.</summary>
    private static void CheckReferenceClickId(Case c, Source source, ProcessedRequest processed, Decisions decisions)
    {
        if (decisions.Fbc.Action == CookieAction.Write)
        {
            Assert.True(decisions.Fbc.ClickId == source.ReferenceClickId, $"{Describe(c)}: the reference wrote {Shorten(processed.Fbc)}");
        }
        else if (source.ReferenceClickId is not null)
        {
            Assert.True(decisions.Fbc.Action == CookieAction.Keep, $"{Describe(c)}: the reference ignored the click ID");
        }
    }

    /// <summary>The reference's decisions rewritten by each exclusion whose condition holds; those that changed them are added to <paramref name="labels"/>.</summary>
    private static Decisions ApplyExclusions(
        Decisions decisions, int index, int? registrableIndex, string? fbc, string? fbp, Source source, bool pageView, ISet<Exclusion> labels)
    {
        var (fbcDecision, fbpDecision) = (decisions.Fbc, decisions.Fbp);

        // (6) New values carry the index of the registrable domain they are written on, not of the builder's guess.
        if (registrableIndex is { } domainIndex && domainIndex != index)
        {
            if (fbcDecision.Action == CookieAction.Write || fbpDecision.Action == CookieAction.Write)
            {
                labels.Add(Exclusion.RegistrableDomain);
            }

            fbcDecision = fbcDecision.Action == CookieAction.Write ? fbcDecision with { Index = domainIndex } : fbcDecision;
            fbpDecision = fbpDecision.Action == CookieAction.Write ? fbpDecision with { Index = domainIndex } : fbpDecision;
            index = domainIndex;
        }

        bool libraryAcceptsFbc = fbc is not null && MetaCookies.IsValid(fbc);
        bool libraryAcceptsFbp = fbp is not null && MetaCookies.IsValid(fbp);

        // (4) A kept value the library refuses as unusual: absent, so a click ID replaces it and _fbp is minted.
        if (fbcDecision.Action == CookieAction.Keep && !libraryAcceptsFbc && IsUnusual(fbc!))
        {
            fbcDecision = source.ReferenceClickId is { } clickId ? new Decision(CookieAction.Write, clickId, index) : new Decision(CookieAction.None);
            labels.Add(Exclusion.UnusualExistingValue);
        }

        if (fbpDecision.Action == CookieAction.Keep && !libraryAcceptsFbp && IsUnusual(fbp!))
        {
            fbpDecision = new Decision(CookieAction.Write, null, index);
            labels.Add(Exclusion.UnusualExistingValue);
        }

        // (1) A click ID outside the library's format is ignored: the existing _fbc stays if there is a valid one.
        if (source.ReferenceClickId is { } id && !MetaCookies.IsValidFbclid(id))
        {
            var ignored = new Decision(libraryAcceptsFbc ? CookieAction.Keep : CookieAction.None);
            if (ignored != fbcDecision)
            {
                fbcDecision = ignored;
                labels.Add(Exclusion.ClickIdFormat);
            }
        }

        // (2) Away from page views, _fbp is minted only along with a new _fbc.
        if (!pageView && fbpDecision.Action == CookieAction.Write && fbcDecision.Action != CookieAction.Write)
        {
            fbpDecision = new Decision(CookieAction.None);
            labels.Add(Exclusion.BrowserIdOnPageViewsOnly);
        }

        return new Decisions(fbcDecision, fbpDecision);
    }

    /// <summary>The statement of exclusion (4), independent of the library's code.</summary>
    private static bool IsUnusual(string value)
    {
        var segments = value.Split('.');
        return value.Length > MetaCookies.MaxCookieLength
            || (segments.Length > 1 && segments[1].Length > 4)
            || (segments.Length > 2 && segments[2].Length > 20)
            || value.Any(c => c is <= ' ' or >= '\x7F' or ';' or ',' or '"' or '\\' or '%');
    }

    /// <summary>Runs the real middleware on a request and reads its decisions from the Set-Cookie headers it wrote.</summary>
    private static (Decisions Decisions, string? Problem) RunLibrary(
        MetaConversionsMiddleware middleware, string host, string? domain, string? fbc, string? fbp, Source source, bool pageView)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = "GET";
        request.Scheme = "https";
        request.Host = new HostString(host);
        request.Path = "/landing";
        request.QueryString = source.Query.Length > 0 ? new QueryString(source.Query) : QueryString.Empty;
        request.Headers["Sec-Fetch-Dest"] = pageView ? "document" : "empty";
        var cookie = string.Join("; ", new[] { ("_fbc", fbc), ("_fbp", fbp) }.Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={p.Item2}"));
        if (cookie.Length > 0)
        {
            request.Headers.Cookie = cookie;
        }

        if (source.Referer is not null)
        {
            request.Headers.Referer = source.Referer;
        }

        var task = middleware.Invoke(context);
        if (!task.IsCompletedSuccessfully)
        {
            return (default, "the middleware did not complete");
        }

        var written = new Dictionary<string, string>();
        foreach (var header in context.Response.Headers.SetCookie)
        {
            var parsed = SetCookieHeaderValue.Parse(header);
            var cookieDomain = parsed.Domain.Value;
            var hostName = context.Request.Host.Host;
            if (cookieDomain is not null && !(hostName == cookieDomain || hostName.EndsWith("." + cookieDomain, StringComparison.Ordinal)))
            {
                return (default, $"{header}: a Domain the browser refuses on {hostName}");
            }

            written[parsed.Name.Value!] = parsed.Value.Value!;
        }

        var decisions = new Decisions(
            FromLibrary(written.GetValueOrDefault("_fbc"), fbc, isClickId: true),
            FromLibrary(written.GetValueOrDefault("_fbp"), fbp, isClickId: false));

        // What the events of this request carry must follow from the decision.
        var sent = MetaRequestContext.Get(context);
        var sentFbc = decisions.Fbc.Action switch { CookieAction.Keep => fbc, CookieAction.Write => written["_fbc"], _ => null };
        var sentFbp = decisions.Fbp.Action switch { CookieAction.Keep => fbp, CookieAction.Write => written["_fbp"], _ => null };
        if (sent.ClickId != sentFbc || sent.BrowserId != sentFbp)
        {
            return (decisions, $"the request's events would carry fbc {Shorten(sent.ClickId)} and fbp {Shorten(sent.BrowserId)}");
        }

        return (decisions, null);
    }

    private static Decision FromLibrary(string? written, string? existing, bool isClickId)
    {
        if (written is null)
        {
            return new Decision(existing is not null && MetaCookies.IsValid(existing) ? CookieAction.Keep : CookieAction.None);
        }

        var parts = written.Split('.', 4);
        Assert.True(parts.Length == 4 && MetaCookies.IsValid(written), $"the library wrote a malformed value: {written}");
        return new Decision(CookieAction.Write, isClickId ? parts[3] : null, int.Parse(parts[1]));
    }

    private static MetaConversionsMiddleware CreateMiddleware(string? cookieDomain, ILogger<MetaConversionsMiddleware> logger)
    {
        var options = new FixedOptions(new MetaConversionsOptions { CookieDomain = cookieDomain });
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        return new(
            static _ => Task.CompletedTask,
            options,
            time,
            new TrackingConsent(options, time, NullLogger<TrackingConsent>.Instance),
            logger);
    }

    private static string Shorten(string? value) => value is null ? "null" : value.Length <= 60 ? value : value[..57] + "...";

    private sealed class Run(string name, bool pageView)
    {
        public string Name => name;

        public bool PageView => pageView;

        public int Identical { get; private set; }

        public int Excluded { get; private set; }

        public Dictionary<Exclusion, int> ByExclusion { get; } = [];

        public List<string> Disagreements { get; } = [];

        public void Count(IEnumerable<Exclusion> labels)
        {
            var any = false;
            foreach (var label in labels)
            {
                ByExclusion[label] = ByExclusion.GetValueOrDefault(label) + 1;
                any = true;
            }

            if (any)
            {
                Excluded++;
            }
            else
            {
                Identical++;
            }
        }
    }

    private sealed class FixedOptions(MetaConversionsOptions options) : IOptionsMonitor<MetaConversionsOptions>
    {
        public MetaConversionsOptions CurrentValue => options;

        public MetaConversionsOptions Get(string? name) => options;

        public IDisposable? OnChange(Action<MetaConversionsOptions, string?> listener) => null;
    }

    /// <summary>The middleware swallows what it throws (a cookie is never worth a failed request): catch it here.</summary>
    private sealed class ExceptionLog : ILogger<MetaConversionsMiddleware>
    {
        public List<Exception> Exceptions { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is not null)
            {
                Exceptions.Add(exception);
            }
        }
    }
}
