using CapiMiddleware.Tests.Infrastructure;
using CapiMiddleware.Tests.Sample;

namespace CapiMiddleware.Tests.Browser;

/// <summary>
/// The inspector of the sample shop with Meta's Dataset Quality figures on, in a real headless Chromium: after a
/// checkout with the Pixel blocked, "Meta's view" shows Meta's figures (from the fake Graph, shaped as Meta documents
/// them) beside the library's own estimate and the pairing the beacon saw, and Meta's diagnostics.
/// </summary>
public sealed class InspectorDatasetQualityInBrowserTests(Chromium chromium, DatasetQualitySampleShop shop)
    : IClassFixture<Chromium>, IClassFixture<DatasetQualitySampleShop>
{
    /// <summary>Set to a file path to keep a screenshot (docs/images/inspector-dataset-quality.png is made this way).</summary>
    private const string ScreenshotVariable = "DATASET_QUALITY_SCREENSHOT";

    private const string MainPixel = "document.querySelector('.meta-pixel[data-pixel-id=\"" + SampleApp<Program>.MainPixelId + "\"]')";

    [SkippableFact]
    public async Task Meta_s_view_shows_Meta_s_figures_beside_the_library_s_own()
    {
        chromium.Require();
        await using var shopper = await chromium.NewPageAsync();
        await shopper.GotoAsync(new Uri(shop.BaseUrl, "/?fbclid=FromAnAd_42"));
        await ShopInBrowserTests.AcceptCookiesAsync(shopper);
        await shopper.GotoAsync(new Uri(shop.BaseUrl, "/checkout?productId=2"));
        await shopper.FillAsync(ShopInBrowserTests.CheckoutFields);
        await shopper.ClickAndWaitForLoadAsync("#place-order");
        var orderId = await shopper.EvaluateAsync<string>("document.getElementById('order-id').textContent");
        await shop.WaitForServerEventAsync(orderId);

        await using var inspector = await chromium.NewPageAsync();
        Assert.Equal(200, (await inspector.GotoAsync(new Uri(shop.BaseUrl, "/_capi/inspector"))).Status);
        var purchase = MainPixel + ".querySelector('tr[data-event-name=\"Purchase\"]')";
        await ShowsAsync(inspector, $"{MainPixel} && {MainPixel}.dataset.status === 'fetched' && {purchase}", "Meta's view shows the Purchase row");
        // The page's beacon (Pixel blocked: the browser's copy could not be sent) reaches the figures a moment later.
        await ShowsAsync(inspector, $"{purchase}.querySelector('.local-reach').textContent === '0 / 1'", "the beacon's pairing is shown");

        string Cell(string row, string cell) => $"{MainPixel}.querySelector('tr[data-event-name=\"{row}\"] .{cell}').textContent";
        Assert.Equal("7.2/10 / ", (await inspector.EvaluateAsync<string>(Cell("Purchase", "meta-score")))[..9]);
        Assert.EndsWith("(1 event)", await inspector.EvaluateAsync<string>(Cell("Purchase", "meta-score")), StringComparison.Ordinal);
        Assert.True(await inspector.EvaluateAsync<bool>($"{purchase}.querySelector('.meta-score .meta-figure').classList.length === 1"), "7.2 is above the floor of 6");
        Assert.Contains("email 100% (100%)", await inspector.EvaluateAsync<string>(Cell("Purchase", "meta-keys")), StringComparison.Ordinal);
        Assert.Equal("34.1% (75%)", await inspector.EvaluateAsync<string>(Cell("Purchase", "meta-coverage")));
        Assert.True(await inspector.EvaluateAsync<bool>($"{purchase}.querySelector('.meta-coverage .meta-figure').classList.contains('below')"), "34.1% is below the floor of 75%");
        Assert.Contains("event_id 100% / 100% / 14.8%", await inspector.EvaluateAsync<string>(Cell("Purchase", "meta-dedupe")), StringComparison.Ordinal);
        Assert.Equal("real time", await inspector.EvaluateAsync<string>(Cell("Purchase", "meta-freshness")));
        Assert.Equal("+37.9%", await inspector.EvaluateAsync<string>(Cell("Purchase", "meta-acr")));
        Assert.Equal("hourly", await inspector.EvaluateAsync<string>(Cell("Lead", "meta-freshness")));
        Assert.Equal("up to +30.1% if sent by the server", await inspector.EvaluateAsync<string>(Cell("PageView", "meta-acr")));
        Assert.Contains("Purchase: Server sending mismatched IP addresses (61.5% of 31830 events)",
            await inspector.EvaluateAsync<string>($"{MainPixel}.querySelector('.meta-diagnostics').textContent"), StringComparison.Ordinal);
        Assert.Contains("Meta reports no web events", await inspector.EvaluateAsync<string>(
            $"document.querySelector('.meta-pixel[data-pixel-id=\"{SampleApp<Program>.SecondStorePixelId}\"]').textContent"), StringComparison.Ordinal);

        if (Environment.GetEnvironmentVariable(ScreenshotVariable) is { Length: > 0 } screenshot)
        {
            await inspector.ScreenshotAsync(screenshot, 1280, 900);
        }

        var report = await inspector.ReportAsync();
        Assert.True(report.Errors.Length == 0, "Browser errors:\n" + string.Join("\n", report.Errors));
        Assert.Empty(report.Violations);
    }

    private static Task ShowsAsync(BrowserPage page, string condition, string what) =>
        Eventually.TrueAsync(() => page.EvaluateAsync<bool>($"!!({condition})"), what);
}
