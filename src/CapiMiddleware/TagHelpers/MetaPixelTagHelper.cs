using System.Text.Encodings.Web;
using System.Text.Json;
using CapiMiddleware.Context;
using CapiMiddleware.Cookies;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Razor.TagHelpers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.TagHelpers;

/// <summary>
/// <c>&lt;meta-pixel /&gt;</c>: renders the Pixel events prepared for this request (name, data, event ID) as a JSON data
/// block, and the <c>&lt;script src&gt;</c> of the snippet that hands them to <c>fbq</c>. Put it once in the layout.
/// Data is serialized as JSON with an encoder that escapes HTML, never concatenated into script.
/// </summary>
/// <example><c>&lt;meta-pixel nonce="@cspNonce" /&gt;</c></example>
[HtmlTargetElement("meta-pixel", TagStructure = TagStructure.WithoutEndTag)]
public sealed class MetaPixelTagHelper : TagHelper
{
    private static readonly JsonSerializerOptions PageJson = new(GraphJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.Default, // escapes <, >, & and quotes: nothing can close the script element
    };

    /// <summary>The CSP nonce for the <c>&lt;script&gt;</c> element, when the site's Content Security Policy uses one.</summary>
    [HtmlAttributeName("nonce")]
    public string? Nonce { get; set; }

    /// <summary>
    /// Whether the snippet loads Meta's Pixel (init and PageView) when the page has no <c>fbq</c> of its own.
    /// Set it to <see langword="false"/> when a tag manager loads the Pixel later. The default value is <see langword="true"/>.
    /// </summary>
    [HtmlAttributeName("load-pixel")]
    public bool LoadPixel { get; set; } = true;

    /// <summary>The view context, set by Razor.</summary>
    [ViewContext]
    [HtmlAttributeNotBound]
    public ViewContext ViewContext { get; set; } = default!;

    /// <inheritdoc />
    public override async Task ProcessAsync(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.TagName = null;
        output.Content.Clear();

        try
        {
            await RenderAsync(output).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The page matters more than its tracking: render nothing rather than fail it.
            output.Content.Clear();
            var logger = ViewContext.HttpContext.RequestServices.GetService<ILogger<MetaPixelTagHelper>>();
            if (logger is not null)
            {
                Log.PageDataFailed(logger, ex);
            }
        }
    }

    private async Task RenderAsync(TagHelperOutput output)
    {
        var http = ViewContext.HttpContext;
        var services = http.RequestServices;
        var options = services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue;
        if (!options.Enabled)
        {
            return;
        }

        var tracking = services.GetRequiredService<TrackingConsent>().Decide(http);
        var scope = ConversionScope.Get(http);
        var events = new List<PixelEvent>();
        var shared = SharedPages.IsShared(http);
        if (shared)
        {
            // Every visitor gets this HTML: no event, consent or carried event of the one who rendered it.
            await services.GetRequiredService<ConversionRecorder>().CommitAwaitingResponseAsync(http).ConfigureAwait(false);
            scope.PixelEventsRendered = true;
        }
        else if (!scope.PixelEventsRendered)
        {
            // Conversions declared in code commit when the response starts, after this page is rendered: the page
            // being rendered is their success (unless its status says otherwise), so they commit now and reach it.
            await services.GetRequiredService<ConversionRecorder>().CommitAwaitingResponseAsync(http).ConfigureAwait(false);
            scope.PixelEventsRendered = true;
            var carried = services.GetRequiredService<PendingPixelEvents>().Take(http);
            if (tracking == TrackingDecision.Allowed)
            {
                // Without consent (withdrawn since the redirect) the carried events are dropped with their cookie.
                events.AddRange(carried);
                events.AddRange(scope.PixelEvents);
            }
        }

        var host = http.Request.Host.Host;
        var cookieDomain = MetaCookies.CookieDomainFor(options.CookieDomain, host);
        var pixelIds = Dispatch.PixelRouting.For(options).PixelIdsForHost(host);
        var data = new PixelPageData
        {
            PixelId = pixelIds.Count > 0 ? pixelIds[0] : null,
            PixelIds = pixelIds,
            LoadPixel = LoadPixel,
            CookieDomain = cookieDomain,
            SubdomainIndex = MetaCookies.SubdomainIndex(cookieDomain, host),
            Consent = shared ? null : tracking == TrackingDecision.Allowed,
            Crawler = !shared && tracking == TrackingDecision.Crawler ? true : null,
            Shared = shared ? true : null,
            Declared = shared ? Declare(http, scope) : null,
            Collect = shared ? http.Request.PathBase.Add(Serving.BrowserEvents.Path).ToUriComponent() : null,
            DataProcessingOptions = PixelDataProcessingOptions.From(options.LimitedDataUse?.ToDataProcessingOptions()),
            Events = events,
            IpEndpoint = options.ClientIpEndpoint,
            Beacon = options.ReportPixelBlocking ? http.Request.PathBase.Add(Serving.PixelBeacon.Path).ToUriComponent() : null,
        };

        var json = JsonSerializer.Serialize(data, PageJson.GetTypeInfo(typeof(PixelPageData)));
        static IReadOnlyList<DeclaredPixelEvent> Declare(Microsoft.AspNetCore.Http.HttpContext http, ConversionScope scope)
        {
            var sealer = http.RequestServices.GetRequiredService<DeclaredEvents>();
            var path = http.Request.Path.Value ?? "/";
            return scope.SharedDeclarations
                .Select(e => new DeclaredPixelEvent(e.Method, e.Name, e.Data, sealer.Seal(new SharedDeclaration(e, path)))
                {
                    PixelIds = e.PixelIds,
                    DataProcessingOptions = e.DataProcessingOptions,
                })
                .ToList();
        }

        var src = http.Request.PathBase.Add(services.GetRequiredService<SnippetFile>().VersionedPath).ToUriComponent();

        output.Content.AppendHtml("<script type=\"application/json\" id=\"meta-capi-data\">");
        output.Content.AppendHtml(json);
        output.Content.AppendHtml("</script>\n<script src=\"");
        output.Content.Append(src);
        output.Content.AppendHtml("\" defer");
        if (!string.IsNullOrEmpty(Nonce))
        {
            output.Content.AppendHtml(" nonce=\"");
            output.Content.Append(Nonce);
            output.Content.AppendHtml("\"");
        }

        output.Content.AppendHtml("></script>");
    }
}
