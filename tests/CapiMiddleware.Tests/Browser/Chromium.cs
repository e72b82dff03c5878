using System.Text.Json;
using System.Text.Json.Serialization;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// One real headless Chromium per test class (Debian's <c>chromium</c> package, or <c>CHROMIUM_PATH</c>), driven by
/// playwright-core in Node through Jering. Without a browser the tests are skipped with the way to install one,
/// except under <c>CI=true</c>, where a missing browser is a failure (<see cref="Requires"/>).
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    internal const string HostModule = "tests/CapiMiddleware.Tests/Browser/browser-host.cjs";

    private NodeProcess? _node;
    private string? _browserId;

    /// <summary>Why there is no browser, or null when there is one.</summary>
    public string? Unavailable { get; private set; }

    public async Task InitializeAsync()
    {
        var path = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(path))
        {
            Unavailable = $"No Chromium at {path}: install Debian's browser with `sudo apt-get install chromium` " +
                "(or set CHROMIUM_PATH to a Chromium or Chrome executable) to run the browser tests.";
            return;
        }

        _node = new NodeProcess();
        _browserId = await _node.InvokeAsync<string>(HostModule, "launch", new Dictionary<string, string> { ["executablePath"] = path });
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            if (_browserId is not null)
            {
                await _node.InvokeAsync<bool>(HostModule, "close", _browserId);
            }

            await _node.DisposeAsync();
        }
    }

    /// <summary>Skips the calling test when there is no browser; fails it instead on CI (<see cref="Requires"/>).</summary>
    public void Require() => Requires.Chromium(this);

    /// <summary>A fresh browser context (its own cookies) and page.</summary>
    /// <param name="fbevents">A stand-in for Meta's fbevents.js to serve instead of blocking it.</param>
    /// <param name="cachedPages">Path to HTML body: pages the browser gets without the server seeing the request.</param>
    /// <param name="userAgent">The browser's user agent in this context (an in-app browser's, say).</param>
    /// <param name="initScripts">Scripts run in every document before its own (what an in-app browser injects, a library).</param>
    /// <param name="forwardedFor">Requests to this path come as through a proxy from this address (X-Forwarded-For).</param>
    public async Task<BrowserPage> NewPageAsync(
        string? fbevents = null,
        IReadOnlyDictionary<string, string>? cachedPages = null,
        string? userAgent = null,
        IReadOnlyList<string>? initScripts = null,
        (string Path, string Address)? forwardedFor = null)
    {
        var options = new NewPageOptions(fbevents, cachedPages, userAgent, initScripts, forwardedFor is { } f ? new ForwardedFor(f.Path, f.Address) : null);
        var id = await _node!.InvokeAsync<string>(HostModule, "newPage", _browserId, options);
        return new BrowserPage(_node, id);
    }

    private sealed record NewPageOptions(
        [property: JsonPropertyName("fbevents")] string? Fbevents,
        [property: JsonPropertyName("cachedPages")] IReadOnlyDictionary<string, string>? CachedPages,
        [property: JsonPropertyName("userAgent")] string? UserAgent,
        [property: JsonPropertyName("initScripts")] IReadOnlyList<string>? InitScripts,
        [property: JsonPropertyName("forwardedFor")] ForwardedFor? ForwardedFor);

    private sealed record ForwardedFor(
        [property: JsonPropertyName("path")] string Path,
        [property: JsonPropertyName("address")] string Address);
}

/// <summary>One page in its own browser context.</summary>
public sealed class BrowserPage(NodeProcess node, string id) : IAsyncDisposable
{
    public Task<Navigation> GotoAsync(Uri url) => Call<Navigation>("goto", url.ToString());

    public Task FillAsync(IReadOnlyDictionary<string, string> fields) => Call<bool>("fill", fields);

    public Task ClickAsync(string selector) => Call<bool>("click", selector);

    /// <summary>Clicks and waits for the page it leads to (a form submission).</summary>
    public Task<string> ClickAndWaitForLoadAsync(string selector) => Call<string>("clickAndWaitForLoad", selector);

    /// <summary>Waits until <paramref name="expression"/> is truthy in the page and returns its value.</summary>
    public Task<T> WaitForAsync<T>(string expression, int timeoutMs = 10_000) => Call<T>("waitFor", expression, timeoutMs);

    public Task<T> EvaluateAsync<T>(string expression) => Call<T>("evaluate", expression);

    /// <summary>What the Pixel was asked to send: each <c>fbq(...)</c> call's arguments.</summary>
    public Task<JsonElement[]> PixelQueueAsync() => Call<JsonElement[]>("pixelQueue");

    /// <summary>The cookies the page's scripts see: <c>document.cookie</c>.</summary>
    public async Task<Dictionary<string, string>> DocumentCookiesAsync()
    {
        var cookie = await EvaluateAsync<string>("document.cookie");
        return cookie.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair.Length > 1 ? pair[1] : "");
    }

    /// <summary>The names of the cookies the browser holds for <paramref name="url"/>, HttpOnly ones included.</summary>
    public Task<string[]> CookieNamesAsync(Uri url) => Call<string[]>("cookieNames", url.ToString());

    /// <summary>Every cookie the browser holds for <paramref name="url"/>, with its domain (a leading dot: a domain cookie).</summary>
    public Task<BrowserCookie[]> CookiesAsync(Uri url) => Call<BrowserCookie[]>("cookies", url.ToString());

    /// <summary>Gives the browser cookies as another script (Meta's Pixel) left them before this visit.</summary>
    public Task AddCookiesAsync(params BrowserCookie[] cookies) => Call<bool>("addCookies", (object)cookies);

    /// <summary>
    /// Opens each visit's URL in turn from a clean cookie jar holding only the visit's cookies, waits until
    /// <paramref name="ready"/> is truthy, and collects the cookies the browser then holds for the URL.
    /// </summary>
    public Task<VisitResult[]> VisitEachAsync(IReadOnlyList<Visit> visits, string ready) => Call<VisitResult[]>("visitEach", visits, ready);

    public Task<PageReport> ReportAsync() => Call<PageReport>("report");

    /// <summary>Saves a PNG of the page, <paramref name="width"/> by <paramref name="height"/> CSS pixels, animations finished.</summary>
    public Task ScreenshotAsync(string path, int width, int height) => Call<bool>("screenshot", path, width, height);

    public async ValueTask DisposeAsync() => await Call<bool>("closePage");

    private Task<T> Call<T>(string export, params object?[] args) =>
        node.InvokeAsync<T>(Chromium.HostModule, export, [id, .. args]);

    public sealed record Navigation(
        [property: JsonPropertyName("status")] int Status,
        [property: JsonPropertyName("setCookies")] string[] SetCookies);

    /// <summary>One visit of <see cref="VisitEachAsync"/>: the URL, its Referer (or null), the cookies held before.</summary>
    public sealed record Visit(
        [property: JsonPropertyName("url")] string Url,
        [property: JsonPropertyName("referer")] string? Referer,
        [property: JsonPropertyName("cookies")] BrowserCookie[] Cookies);

    /// <summary>What a visit left: the ready expression's value when it was a string (an error), document.referrer, the cookies.</summary>
    public sealed record VisitResult(
        [property: JsonPropertyName("ready")] string? Ready,
        [property: JsonPropertyName("referrer")] string Referrer,
        [property: JsonPropertyName("cookies")] BrowserCookie[] Cookies);

    public sealed record PageReport(
        [property: JsonPropertyName("errors")] string[] Errors,
        [property: JsonPropertyName("violations")] string[] Violations,
        [property: JsonPropertyName("blocked")] string[] Blocked);
}

/// <summary>A cookie in the browser: <see cref="Domain"/> starts with a dot for a domain cookie, and is the host for a host-only one.</summary>
public sealed record BrowserCookie(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] string Value,
    [property: JsonPropertyName("domain")] string Domain);
