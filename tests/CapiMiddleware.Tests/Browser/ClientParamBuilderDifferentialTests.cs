using System.Text.Json;
using CapiMiddleware.Cookies;
using CapiMiddleware.Tests.Infrastructure;
using CapiMiddleware.Tests.Reference;
using Xunit.Abstractions;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// Issue 15: in a real Chromium, on the same URLs, referrers and existing cookies, the snippet decides about
/// <c>_fbc</c>/<c>_fbp</c> what Meta's client-side Parameter Builder (npm <c>meta-capi-param-builder-clientjs</c>, its
/// published bundle, <c>processAndCollectAllParams</c>) decides: keep the existing value, write a new <c>_fbc</c> (with
/// which click ID), mint an <c>_fbp</c>, or nothing; and for a new value its subdomain index and the cookie's Domain.
/// Timestamps, the random part of <c>_fbp</c> and the builder's appendix on new values are aside.
/// </summary>
/// <remarks>
/// Each decision is read from the browser's cookie jar after the page ran, never from either script's own report. Where
/// the snippet differs on purpose, the difference is a named <see cref="Exclusion"/>: a rewrite of the builder's
/// decision applied only when its condition holds, counted on its own; any other disagreement fails the test. The snippet
/// runs twice per case: on a static page (it finds the cookie domain by probing, as Meta's Pixel does) and under the
/// server's data block (<c>cookieDomain: "shop.test"</c>). Every host lies under <c>shop.test</c>, the registrable domain.
/// </remarks>
[Collection(DifferentialSuite.Name)]
public sealed class ClientParamBuilderDifferentialTests(Chromium chromium, ITestOutputHelper output) : IClassFixture<Chromium>
{
    private const string ReferenceVersion = "1.3.1";
    private const string Existing = "IwAR2Existing";
    private const string Domain = ".shop.test";
    private const int DomainIndex = 1;
    private const string Time = "1700000000000";
    private const string InAppClick = "IwZXh0bgNhZW0BMABhZGlk_InApp-7";

    // The iOS in-app browser's bridge (window.webkit.messageHandlers.browserProperties), answering the click ID; what was
    // asked is recorded, and __inAppSettled set a task after the answer, when the snippet has stored it.
    private const string InAppBridge = $$"""
        (function () {
          var asked = window.__inAppAsked = [];
          window.webkit = { messageHandlers: { browserProperties: { postMessage: function (name) {
            asked.push(name);
            var answer = Promise.resolve(name === 'clickID' ? '{{InAppClick}}' : '');
            answer.then(function () { setTimeout(function () { window.__inAppSettled = true; }, 0); });
            return answer;
          } } } };
        })();
        """;

    /// <summary>The snippet's deliberate differences from Meta's client-side builder, each with its reason.</summary>
    public enum Exclusion
    {
        /// <summary>
        /// (1) The builder rewrites a value it keeps, adding its appendix, on the domain the value's index names; the snippet
        /// writes four-segment values and never rewrites a valid one (one value per name, on the registrable domain). The
        /// appendix names the Meta library that wrote a value: the snippet is not one and does not forge its token.
        /// </summary>
        NoAppendix = 1,

        /// <summary>
        /// (2) The snippet takes <c>fbclid</c> from the page's query string only, where Meta's ads put it; the builder also
        /// searches the fragment and <c>document.referrer</c> (the server reads the Referer header of the pages it serves).
        /// Browsers cut another site's referrer to its origin by default, so a referrer with a click ID is one of the
        /// site's own pages, which had it in its own query, where the snippet or the server stored it.
        /// </summary>
        QueryOnly = 2,

        /// <summary>
        /// (3) Only click IDs of 1 to 500 characters of <c>[A-Za-z0-9_-]</c> are stored, as by the server; the builder
        /// stores any value up to 500 characters, URL-encoded. Meta rejects a modified click ID.
        /// </summary>
        ClickIdFormat = 3,

        /// <summary>
        /// (4) The builder finds where to write a new value by trying the shortest domain first and reading the cookie
        /// back; an existing value it cannot parse reads back as success after the browser refused the top-level domain,
        /// so it writes nothing and the malformed value stays. The snippet replaces it.
        /// </summary>
        ProbeStoppedByExistingValue = 4,

        /// <summary>
        /// (5) A new click ID replacing an existing <c>_fbc</c> keeps the old value's subdomain index in the builder, and is
        /// written on the domain that index names (<c>fb.2</c> on <c>www.shop.test</c>: Domain <c>.www.shop.test</c>, a
        /// second cookie beside the Pixel's; <c>fb.2</c> on <c>shop.test</c>: Domain <c>test</c>, which the browser refuses,
        /// so the old click stays). The snippet writes every new value on the registrable domain with its index.
        /// </summary>
        IndexFromExistingValue = 5,

        /// <summary>
        /// (6) A fifth segment is accepted only as an appendix Meta's libraries write (the server's rule); the builder
        /// accepts any eight characters there. Such a value is absent to the snippet: a click ID replaces it, and
        /// <c>_fbp</c> is minted.
        /// </summary>
        AppendixMetaWrites = 6,

        /// <summary>
        /// (7) In an in-app browser, the builder asks for the click ID only when there is no <c>_fbc</c> at all; the snippet
        /// also when the one there is invalid to it (malformed, or an appendix no Meta library writes): such a value is
        /// absent to the snippet and the server alike, and the app's click ID replaces it.
        /// </summary>
        InAppWithoutValidValue = 7,
    }

    private enum CookieAction
    {
        None,
        Keep,
        Write,
    }

    private readonly record struct Decision(CookieAction Action, string? ClickId = null, int Index = -1, string? CookieDomain = null)
    {
        public override string ToString() => Action switch
        {
            CookieAction.Write => $"{(ClickId is null ? "mint(" : $"write({Shorten(ClickId)}, ")}i={Index}, domain {CookieDomain})",
            _ => Action.ToString().ToLowerInvariant(),
        };
    }

    private readonly record struct Decisions(Decision Fbc, Decision Fbp)
    {
        public override string ToString() => $"_fbc {Fbc}, _fbp {Fbp}";
    }

    private sealed record State(string Name, string? Value);

    /// <param name="MetaClickId">The click ID the builder takes (the test's statement, checked against what it writes).</param>
    /// <param name="InQuery">Whether that click ID is in the page's query string.</param>
    private sealed record Source(string Name, string Query, string? RefererQuery, string? MetaClickId, bool InQuery);

    private static readonly string[] Hosts = ["www.shop.test", "a.b.shop.test", "shop.test"];

    private static readonly State[] FbcStates =
    [
        new("absent", null),
        new("4 segments", $"fb.1.{Time}.{Existing}"),
        new("4 segments, index 2", $"fb.2.{Time}.{Existing}"),
        new("5 segments, appendix", $"fb.1.{Time}.{Existing}.AQQCAQMC"),
        new("5 segments, 8 characters no Meta library writes", $"fb.1.{Time}.{Existing}.ZZZZZZZZ"),
        new("3 segments", $"fb.1.{Time}"),
        new("garbage", "garbage"),
    ];

    // Rotated through the cases (the _fbp decision depends on the host, the placement and the value only).
    private static readonly State[] FbpStates =
    [
        new("absent", null),
        new("4 segments", $"fb.1.{Time}.1116446470"),
        new("4 segments, index 2", $"fb.2.{Time}.1116446470"),
        new("5 segments, appendix", $"fb.1.{Time}.1116446470.AQQAAQMC"),
        new("5 segments, language token", $"fb.1.{Time}.1116446470.Bg"),
        new("5 segments, 8 characters no Meta library writes", $"fb.1.{Time}.1116446470.ZZZZZZZZ"),
        new("3 segments", $"fb.1.{Time}"),
        new("garbage", "garbage"),
    ];

    private static readonly string Long500 = string.Concat(Enumerable.Repeat("IwAR2-_x", 63))[..500];

    private static readonly Source[] Sources =
    [
        new("none", "?utm_source=fb", null, null, InQuery: false),
        new("in the query", "?fbclid=IwAR2NewClick&utm_source=fb", null, "IwAR2NewClick", InQuery: true),
        new("the existing one", $"?fbclid={Existing}", null, Existing, InQuery: true),
        new("the existing one in another case", $"?fbclid={Existing.ToLowerInvariant()}", null, Existing.ToLowerInvariant(), InQuery: true),
        new("only in the referrer", "?utm_source=fb", "/from?utm_source=fb&fbclid=IwAR2FromReferrer", "IwAR2FromReferrer", InQuery: false),
        new("only in the fragment", "?utm_source=fb#fbclid=IwAR2InFragment", null, "IwAR2InFragment", InQuery: false),
        new("501 characters", $"?fbclid={Long500}Z", null, null, InQuery: true),
        new("with a dot", "?fbclid=IwAR2.Dotted", null, "IwAR2.Dotted", InQuery: true),
    ];

    private readonly record struct Case(int Number, int Host, bool HostOnly, int Fbc, int Fbp, int Source);

    [SkippableFact]
    public Task The_snippet_decides_as_Meta_s_client_side_Parameter_Builder_does() => CompareAsync(Cases(Sources.Length).ToArray(), inApp: false);

    /// <summary>
    /// The same in an in-app browser: both get the iOS bridge (an init script), which answers <see cref="InAppClick"/>.
    /// The sources are limited to none and the query (the rest are the other test's), so it stays short.
    /// </summary>
    [SkippableFact]
    public Task In_an_in_app_browser_the_snippet_recovers_the_click_ID_as_Meta_s_client_side_builder_does() => CompareAsync(Cases(2).ToArray(), inApp: true);

    private async Task CompareAsync(Case[] cases, bool inApp)
    {
        chromium.Require();
        var package = Path.Combine(NodeProcess.RepositoryRoot, "node_modules", "meta-capi-param-builder-clientjs");
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(package, "package.json"))))
        {
            Assert.Equal(ReferenceVersion, manifest.RootElement.GetProperty("version").GetString());
        }

        var builder = File.ReadAllText(Path.Combine(package, "dist", "clientParamBuilder.bundle.js"));
        var snippet = File.ReadAllText(Path.Combine(NodeProcess.RepositoryRoot, "client", "dist", "meta-capi.js"));
        const string builderPage = """
            <!doctype html><html><head><script>
            clientParamBuilder.processAndCollectAllParams(location.href).then(
              function () { window.__done = true; },
              function (e) { window.__done = 'error: ' + (e && e.message); });
            </script></head><body></body></html>
            """;
        var staticPage = $"<!doctype html><html><head><script>{snippet}</script></head><body></body></html>";
        var blockPage = "<!doctype html><html><head><script type=\"application/json\" id=\"meta-capi-data\">" +
            $"{{\"v\":1,\"pixelId\":null,\"loadPixel\":false,\"cookieDomain\":\"shop.test\",\"subdomainIndex\":{DomainIndex},\"events\":[]}}" +
            $"</script><script>{snippet}</script></head><body></body></html>";

        // The snippet does not wait for the in-app answer: it is ready once the bridge has answered and a task has passed.
        var snippetReady = inApp ? "!!window.metaCapi && (window.__inAppAsked.length === 0 || window.__inAppSettled === true)" : "!!window.metaCapi";
        string[] bridge = inApp ? [InAppBridge] : [];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The three side by side: each host's visits in a page of its own.
        var all = await Task.WhenAll(
            RunAsync(cases, builderPage, [.. bridge, builder], "window.__done"),
            RunAsync(cases, staticPage, bridge, snippetReady),
            RunAsync(cases, blockPage, bridge, snippetReady));
        var reference = all[0];
        var runs = new[] { new Run("static page (domain probed)", all[1]), new Run("server's data block (cookieDomain shop.test)", all[2]) };
        var elapsed = clock.Elapsed;

        for (var i = 0; i < cases.Length; i++)
        {
            var c = cases[i];
            var (fbc, fbp, source) = (FbcStates[c.Fbc].Value, FbpStates[c.Fbp].Value, Sources[c.Source]);
            var placed = c.HostOnly ? Hosts[c.Host] : Domain;
            Assert.True(reference[i].Ready is null, $"{Describe(c)}: the builder failed: {reference[i].Ready}");
            if (source.RefererQuery is not null)
            {
                Assert.Contains("fbclid=", reference[i].Referrer, StringComparison.Ordinal); // the referrer reached the page whole
            }

            var referenceDecisions = Read(reference[i].Cookies, fbc, fbp, placed, out var rewritten);
            CheckReferenceClickId(c, referenceDecisions.Fbc, inApp);
            var labels = new SortedSet<Exclusion>();
            if (rewritten)
            {
                labels.Add(Exclusion.NoAppendix);
            }

            var expected = ApplyExclusions(referenceDecisions, fbc, fbp, source, inApp, labels);
            foreach (var run in runs)
            {
                var actual = Read(run.Results[i].Cookies, fbc, fbp, placed, out var snippetRewrote);
                if (actual == expected && !snippetRewrote && run.Results[i].Ready is null)
                {
                    run.Count(labels);
                }
                else
                {
                    run.Disagreements.Add(
                        $"{Describe(c)}: builder {referenceDecisions}{(labels.Count > 0 ? $" (after {string.Join(", ", labels)}: {expected})" : "")}, " +
                        $"snippet {actual}{(snippetRewrote ? " (rewrote a kept value)" : "")}");
                }
            }
        }

        output.WriteLine($"Meta's client-side Parameter Builder {ReferenceVersion} and the snippet in Chromium{(inApp ? ", in-app bridge present" : "")}: {elapsed.TotalSeconds:0.0} s.");
        output.WriteLine(
            $"Matrix: {Hosts.Length} hosts x {FbcStates.Length} _fbc x {cases.Max(c => c.Source) + 1} click-ID sources = {cases.Length} visits, " +
            $"the existing cookies on the domain or host-only in turn, _fbp rotating through {FbpStates.Length} states.");
        foreach (var run in runs)
        {
            output.WriteLine(
                $"{run.Name}: {run.Identical + run.Excluded} of {cases.Length} agree ({run.Identical} identical, " +
                $"{run.Excluded} identical after named exclusions), {run.Disagreements.Count} differ");
            foreach (var exclusion in Enum.GetValues<Exclusion>())
            {
                output.WriteLine($"    ({(int)exclusion}) {exclusion,-28} {run.ByExclusion.GetValueOrDefault(exclusion),4} visits");
            }
        }

        var disagreements = runs.SelectMany(r => r.Disagreements.Select(d => $"[{r.Name}] {d}")).ToList();
        Assert.True(
            disagreements.Count == 0,
            $"{disagreements.Count} decisions differ from Meta's client-side Parameter Builder; the first ones:\n" + string.Join("\n", disagreements.Take(25)));
    }

    /// <param name="sources">How many of <see cref="Sources"/>, from the first.</param>
    private static IEnumerable<Case> Cases(int sources)
    {
        // Where the existing cookies are (on the domain, as the Pixel writes them, or host-only) alternates, and _fbp
        // rotates, so every host sees every _fbc state and click-ID source once, in under a minute of browsing.
        var n = 0;
        for (var h = 0; h < Hosts.Length; h++)
        {
            for (var fbc = 0; fbc < FbcStates.Length; fbc++)
            {
                for (var s = 0; s < sources; s++)
                {
                    yield return new Case(n, h, (fbc + s + h) % 2 == 1, fbc, n % FbpStates.Length, s);
                    n++;
                }
            }
        }
    }

    /// <summary>Every case, one page per host, each visit from a clean cookie jar holding the case's cookies.</summary>
    private async Task<BrowserPage.VisitResult[]> RunAsync(Case[] cases, string html, string[] initScripts, string ready)
    {
        var results = new BrowserPage.VisitResult[cases.Length];
        await Task.WhenAll(Enumerable.Range(0, Hosts.Length).Select(RunHostAsync));
        return results;

        async Task RunHostAsync(int h)
        {
            var host = Hosts[h];
            var indexes = Enumerable.Range(0, cases.Length).Where(i => cases[i].Host == h).ToArray();
            var visits = indexes.Select(i =>
            {
                var c = cases[i];
                var source = Sources[c.Source];
                var placed = c.HostOnly ? host : Domain;
                var cookies = new[] { ("_fbc", FbcStates[c.Fbc].Value), ("_fbp", FbpStates[c.Fbp].Value) }
                    .Where(p => p.Item2 is not null)
                    .Select(p => new BrowserCookie(p.Item1, p.Item2!, placed))
                    .ToArray();
                // The visit number keeps consecutive URLs apart (one differing in its fragment only would not load).
                return new BrowserPage.Visit(
                    $"http://{host}/landing?visit={c.Number}&{source.Query[1..]}", source.RefererQuery is null ? null : $"http://{host}{source.RefererQuery}", cookies);
            }).ToArray();

            await using var page = await chromium.NewPageAsync(cachedPages: new Dictionary<string, string> { ["/landing"] = html }, initScripts: initScripts);
            var visited = await page.VisitEachAsync(visits, ready);
            for (var k = 0; k < indexes.Length; k++)
            {
                results[indexes[k]] = visited[k];
            }

            var report = await page.ReportAsync();
            Assert.True(report.Errors.Length == 0, $"Browser errors on {host}:\n" + string.Join("\n", report.Errors));
        }
    }

    /// <summary>Both decisions, read from the cookies the browser holds after the visit.</summary>
    private static Decisions Read(BrowserCookie[] after, string? fbc, string? fbp, string placed, out bool rewritten)
    {
        var fbcDecision = Read(after, "_fbc", fbc, placed, isClickId: true, out var fbcRewritten);
        var fbpDecision = Read(after, "_fbp", fbp, placed, isClickId: false, out var fbpRewritten);
        rewritten = fbcRewritten || fbpRewritten;
        return new Decisions(fbcDecision, fbpDecision);
    }

    /// <summary>
    /// A cookie that is not the one placed before the visit is either the existing value rewritten (same index, time and
    /// payload, perhaps with an appendix or on another domain: a keep) or a new value (a write: its payload, index and
    /// domain). Nothing new: a keep if the existing value is still there, else nothing.
    /// </summary>
    private static Decision Read(BrowserCookie[] after, string name, string? existing, string placed, bool isClickId, out bool rewritten)
    {
        var values = after.Where(c => c.Name == name).ToArray();
        var fresh = values.Where(c => !(c.Value == existing && c.Domain == placed)).ToArray();
        var rewrites = fresh.Where(c => existing is not null && Core(c.Value) == Core(existing)).ToArray();
        var writes = fresh.Except(rewrites).ToArray();
        rewritten = rewrites.Length > 0;
        if (writes.Length > 0)
        {
            Assert.True(writes.Length == 1, $"{name}: more than one new value: {string.Join(", ", writes.Select(w => $"{Shorten(w.Value)} on {w.Domain}"))}");
            // fb.{index}.{time}.{payload}[.{appendix}]; the builder's payload may hold a dot, its appendix never does.
            var parts = Uri.UnescapeDataString(writes[0].Value).Split('.', 4);
            Assert.True(parts.Length == 4 && parts[0] == "fb", $"{name}: a malformed new value {Shorten(writes[0].Value)}");
            var payload = parts[3];
            var last = payload.LastIndexOf('.');
            if (last >= 0 && IsAppendix(payload[(last + 1)..]))
            {
                payload = payload[..last];
            }

            return new Decision(CookieAction.Write, isClickId ? payload : null, int.Parse(parts[1]), writes[0].Domain);
        }

        return new Decision(values.Length > 0 && existing is not null ? CookieAction.Keep : CookieAction.None);
    }

    private static bool IsAppendix(string segment) => segment is "AQ" or "Ag" or "Aw" or "BA" or "BQ" or "Bg" || segment.Length == 8;

    /// <summary>fb.{index}.{time}.{payload} of a value, without an appendix.</summary>
    private static string Core(string value)
    {
        var parts = value.Split('.');
        return parts.Length >= 4 ? string.Join('.', parts.Take(4)) : value;
    }

    /// <summary>The test's statement of which click ID the builder takes must hold, or the comparison means nothing.</summary>
    private static void CheckReferenceClickId(Case c, Decision fbc, bool inApp)
    {
        if (fbc.Action == CookieAction.Write)
        {
            Assert.True(fbc.ClickId == (Sources[c.Source].MetaClickId ?? (inApp ? InAppClick : null)), $"{Describe(c)}: the builder wrote the click ID {Shorten(fbc.ClickId)}");
        }
    }

    /// <summary>The builder's decisions rewritten by each exclusion whose condition holds; those that changed them are added to <paramref name="labels"/>.</summary>
    private static Decisions ApplyExclusions(Decisions decisions, string? fbc, string? fbp, Source source, bool inApp, ISet<Exclusion> labels)
    {
        var (fbcDecision, fbpDecision) = (decisions.Fbc, decisions.Fbp);
        var newClick = new Decision(CookieAction.Write, null, DomainIndex, Domain);
        var present = fbc is null ? new Decision(CookieAction.None) : new Decision(CookieAction.Keep);
        void Rewrite(ref Decision decision, Decision to, Exclusion exclusion)
        {
            if (decision != to)
            {
                decision = to;
                labels.Add(exclusion);
            }
        }

        // (2), (3) A click ID the snippet does not take: as if there were none (an existing value stays as it is).
        var click = source.MetaClickId;
        if (click is not null && !source.InQuery)
        {
            Rewrite(ref fbcDecision, present, Exclusion.QueryOnly);
            click = null;
        }

        if (click is not null && !MetaCookies.IsValidFbclid(click))
        {
            Rewrite(ref fbcDecision, present, Exclusion.ClickIdFormat);
            click = null;
        }

        // (4) A value the builder cannot parse, where it wanted a new one: the snippet writes it.
        if (click is not null && fbc is not null && !BuilderAccepts(fbc) && fbcDecision.Action == CookieAction.Keep)
        {
            Rewrite(ref fbcDecision, newClick with { ClickId = click }, Exclusion.ProbeStoppedByExistingValue);
        }

        if (fbp is not null && !BuilderAccepts(fbp) && fbpDecision.Action == CookieAction.Keep)
        {
            Rewrite(ref fbpDecision, newClick, Exclusion.ProbeStoppedByExistingValue);
        }

        // (5) Another click ID replacing a value the builder accepts: on the registrable domain, with its index.
        if (click is not null && fbc is not null && BuilderAccepts(fbc) && fbc.Split('.')[3] != click)
        {
            Rewrite(ref fbcDecision, newClick with { ClickId = click }, Exclusion.IndexFromExistingValue);
        }

        // (6) A fifth segment no Meta library writes: the value is absent to the snippet.
        if (fbc is not null && BuilderAccepts(fbc) && !MetaCookies.IsValid(fbc))
        {
            Rewrite(ref fbcDecision, click is null ? present : newClick with { ClickId = click }, Exclusion.AppendixMetaWrites);
        }

        if (fbp is not null && BuilderAccepts(fbp) && !MetaCookies.IsValid(fbp))
        {
            Rewrite(ref fbpDecision, newClick, Exclusion.AppendixMetaWrites);
        }

        // (7) No click ID and a _fbc the snippet does not accept: in an in-app browser it asks, and stores the answer.
        if (inApp && click is null && fbc is not null && !MetaCookies.IsValid(fbc))
        {
            Rewrite(ref fbcDecision, newClick with { ClickId = InAppClick }, Exclusion.InAppWithoutValidValue);
        }

        return new Decisions(fbcDecision, fbpDecision);
    }

    /// <summary>
    /// The builder's parse of an existing value, as its source states it: four or five dot-separated segments, the first
    /// <c>fb</c>, an index and a time that start with digits, a non-empty payload, and a fifth segment that is one of its
    /// language tokens or any eight characters.
    /// </summary>
    private static bool BuilderAccepts(string value)
    {
        var parts = value.Split('.');
        return parts.Length is 4 or 5
            && parts[0] == "fb"
            && parts[1].Length > 0 && char.IsAsciiDigit(parts[1][0])
            && parts[2].Length > 0 && char.IsAsciiDigit(parts[2][0])
            && parts[3].Length > 0
            && (parts.Length == 4 || IsAppendix(parts[4]));
    }

    private static string Describe(Case c) =>
        $"host {Hosts[c.Host]}, cookies {(c.HostOnly ? "host-only" : "on " + Domain)}, _fbc {FbcStates[c.Fbc].Name}, " +
        $"_fbp {FbpStates[c.Fbp].Name}, click ID {Sources[c.Source].Name}";

    private static string Shorten(string? value) => value is null ? "null" : value.Length <= 40 ? value : value[..37] + "...";

    private sealed class Run(string name, BrowserPage.VisitResult[] results)
    {
        public string Name => name;

        public BrowserPage.VisitResult[] Results => results;

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
}
