using System.Text;
using System.Text.Encodings.Web;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Serving;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Inspector;

/// <summary>
/// The inspector's endpoints under <c>/_capi/inspector</c>, mapped by <c>app.MapMetaConversions()</c>: the page, its
/// script and style sheet (separate files, so it works under a strict Content Security Policy, and it sends its own), and
/// <c>events.json</c>, which the page polls. While the inspector is off, routing skips them (<see cref="IsServedAsync"/>)
/// and its paths are the application's, so nothing tells that it exists; with a policy, a request that fails it is
/// challenged or forbidden as the policy's schemes do it.
/// </summary>
internal sealed class InspectorEndpoints
{
    public const string BasePath = SnippetFile.BasePath + "/inspector";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Asset Page = new("inspector.html", "text/html; charset=utf-8");
    private static readonly Asset Script = new("inspector.js", "text/javascript; charset=utf-8");
    private static readonly Asset StyleSheet = new("inspector.css", "text/css; charset=utf-8");

    private readonly RecentEvents _events;
    private readonly PixelReach _reach;
    private readonly DatasetQuality.DatasetQualityReports _datasetQuality;
    private readonly DatasetQuality.LocalMatchQuality _localQuality;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly ILogger<InspectorEndpoints> _logger;
    private readonly TimeProvider _time;
    private readonly LogThrottle _policyMissing = new(LogThrottle.PerMinute);

    public InspectorEndpoints(
        RecentEvents events,
        PixelReach reach,
        DatasetQuality.DatasetQualityReports datasetQuality,
        DatasetQuality.LocalMatchQuality localQuality,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        ILogger<InspectorEndpoints> logger)
    {
        _datasetQuality = datasetQuality;
        _localQuality = localQuality;
        _time = time;
        _reach = reach;
        _events = events;
        _options = options;
        _logger = logger;

        switch (events.State)
        {
            case InspectorState.OffWithoutPolicy:
                Log.InspectorNeedsPolicy(logger);
                break;
            case InspectorState.Open:
                Log.InspectorOn(logger, BasePath, "Development, open to every visitor of this application");
                break;
            case InspectorState.PolicyRequired:
                Log.InspectorOn(logger, BasePath, "for requests that satisfy the policy " + options.CurrentValue.Inspector.AuthorizationPolicy);
                break;
        }
    }

    /// <summary>The paths under <see cref="BasePath"/> it serves (the page with or without a trailing slash), each with its handler.</summary>
    public IEnumerable<(string Path, RequestDelegate Serve)> Routes =>
    [
        ("", context => ServeAsync(context, WritePageAsync)),
        ("/inspector.js", context => ServeAsync(context, Script.WriteAsync)),
        ("/inspector.css", context => ServeAsync(context, StyleSheet.WriteAsync)),
        ("/events.json", context => ServeAsync(context, WriteEventsAsync)),
        ("/summary.json", context => ServeAsync(context, WriteSummaryAsync)),
    ];

    /// <summary>
    /// Whether the inspector serves this request: on, and, when it needs a policy, that policy registered. When it does
    /// not, routing skips its endpoints and the request goes on to the application's, as if there were no inspector.
    /// </summary>
    public ValueTask<bool> IsServedAsync(HttpContext context) => _events.State switch
    {
        InspectorState.Open => ValueTask.FromResult(true),
        InspectorState.PolicyRequired => PolicyRegisteredAsync(context),
        _ => ValueTask.FromResult(false),
    };

    private async ValueTask<bool> PolicyRegisteredAsync(HttpContext context)
    {
        var policy = _options.CurrentValue.Inspector.AuthorizationPolicy!;
        if (await FindPolicyAsync(context.RequestServices, policy).ConfigureAwait(false) is not null)
        {
            return true;
        }

        if (_policyMissing.ShouldLog(_time, out var occurrences))
        {
            Log.InspectorPolicyMissing(_logger, policy, occurrences);
        }

        return false;
    }

    /// <summary>The named policy, when authorization is set up and knows it; <see langword="null"/> otherwise.</summary>
    private static async Task<AuthorizationPolicy?> FindPolicyAsync(IServiceProvider services, string policyName) =>
        services.GetService<IPolicyEvaluator>() is not null && services.GetService<IAuthorizationPolicyProvider>() is { } provider
            ? await provider.GetPolicyAsync(policyName).ConfigureAwait(false)
            : null;

    private async Task ServeAsync(HttpContext context, Func<HttpContext, Task> serve)
    {
        var state = _events.State;
        if (state is not (InspectorState.Open or InspectorState.PolicyRequired))
        {
            // Turned off between routing and here.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (state == InspectorState.PolicyRequired)
        {
            var policy = _options.CurrentValue.Inspector.AuthorizationPolicy!;
            switch (await AuthorizeAsync(context, policy).ConfigureAwait(false))
            {
                case Access.Granted:
                    break;
                case Access.Refused:
                    return;
                default:
                    // Routing found the policy a moment ago (IsServedAsync); gone since, the inspector is not there.
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
            }
        }

        var request = context.Request;
        var response = context.Response;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return;
        }

        // What the inspector shows is the site's traffic: never cached, framed or indexed.
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers["X-Robots-Tag"] = "noindex, nofollow";
        await serve(context).ConfigureAwait(false);
    }

    private enum Access
    {
        Granted,
        Refused,
        NoPolicy,
    }

    /// <summary>
    /// Evaluates the policy as the authorization middleware would. The application may not authenticate before its
    /// endpoints, so a policy without schemes authenticates with the default scheme here, as the authentication middleware
    /// would.
    /// </summary>
    private static async Task<Access> AuthorizeAsync(HttpContext context, string policyName)
    {
        var services = context.RequestServices;
        if (await FindPolicyAsync(services, policyName).ConfigureAwait(false) is not { } policy)
        {
            return Access.NoPolicy;
        }

        var evaluator = services.GetRequiredService<IPolicyEvaluator>();
        var schemes = services.GetService<IAuthenticationSchemeProvider>();
        if (policy.AuthenticationSchemes.Count == 0 && context.User.Identity?.IsAuthenticated != true
            && schemes is not null && await schemes.GetDefaultAuthenticateSchemeAsync().ConfigureAwait(false) is { } defaultScheme)
        {
            var authenticated = await context.AuthenticateAsync(defaultScheme.Name).ConfigureAwait(false);
            if (authenticated.Principal is not null)
            {
                context.User = authenticated.Principal;
            }
        }

        var authentication = await evaluator.AuthenticateAsync(policy, context).ConfigureAwait(false);
        var authorization = await evaluator.AuthorizeAsync(policy, authentication, context, context).ConfigureAwait(false);
        if (authorization.Succeeded)
        {
            return Access.Granted;
        }

        var challenge = authorization.Challenged;
        if (policy.AuthenticationSchemes.Count > 0)
        {
            foreach (var scheme in policy.AuthenticationSchemes)
            {
                await (challenge ? context.ChallengeAsync(scheme) : context.ForbidAsync(scheme)).ConfigureAwait(false);
            }
        }
        else if (schemes is not null
            && await (challenge ? schemes.GetDefaultChallengeSchemeAsync() : schemes.GetDefaultForbidSchemeAsync()).ConfigureAwait(false) is not null)
        {
            await (challenge ? context.ChallengeAsync() : context.ForbidAsync()).ConfigureAwait(false);
        }
        else
        {
            // No authentication to challenge with: the bare status.
            context.Response.StatusCode = challenge ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
        }

        return Access.Refused;
    }

    private static Task WritePageAsync(HttpContext context)
    {
        // The page names its script and style sheet under the application's path base.
        var basePath = HtmlEncoder.Default.Encode(context.Request.PathBase.Add(BasePath).Value!);
        var html = Encoding.UTF8.GetBytes(Page.Text.Replace("{base}", basePath, StringComparison.Ordinal));
        return Asset.WriteAsync(context, Page.ContentType, html);
    }

    private Task WriteEventsAsync(HttpContext context)
    {
        var since = long.TryParse(context.Request.Query["since"], out var version) ? version : 0;
        var options = _options.CurrentValue;
        var reach = _reach.Snapshot();
        return WriteJsonAsync(context, body => InspectorJson.WriteEvents(body, _events.Since(since), options, reach, DatasetQualityWriter(options, reach)));
    }

    private Task WriteSummaryAsync(HttpContext context)
    {
        var options = _options.CurrentValue;
        var reach = _reach.Snapshot();
        return WriteJsonAsync(context, body => InspectorJson.WriteSummary(body, reach, DatasetQualityWriter(options, reach)));
    }

    /// <summary>Writes Meta's Dataset Quality figures beside the Pixel-reach counts they are compared with.</summary>
    private Action<System.Text.Json.Utf8JsonWriter> DatasetQualityWriter(MetaConversionsOptions options, PixelReachSummary reach) =>
        json => DatasetQuality.DatasetQualityJson.Write(json, options, _datasetQuality.Snapshot(options), _localQuality, reach);

    /// <summary>A JSON answer (headers only for HEAD); the caching and security headers are set in <see cref="ServeAsync"/>.</summary>
    private static Task WriteJsonAsync(HttpContext context, Action<System.IO.Pipelines.PipeWriter> write)
    {
        var response = context.Response;
        response.ContentType = "application/json; charset=utf-8";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        write(response.BodyWriter);
        return response.BodyWriter.FlushAsync(context.RequestAborted).AsTask();
    }

    /// <summary>A file embedded from <c>Inspector/</c>.</summary>
    private sealed class Asset
    {
        private readonly byte[] _content;

        public Asset(string name, string contentType)
        {
            var resource = "CapiMiddleware.Inspector." + name;
            using var stream = typeof(Asset).Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The embedded resource {resource} is missing.");
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            _content = memory.ToArray();
            ContentType = contentType;
            Text = Encoding.UTF8.GetString(_content);
        }

        public string ContentType { get; }

        public string Text { get; }

        public Task WriteAsync(HttpContext context) => WriteAsync(context, ContentType, _content);

        public static Task WriteAsync(HttpContext context, string contentType, byte[] content)
        {
            var response = context.Response;
            response.ContentType = contentType;
            response.ContentLength = content.Length;
            return HttpMethods.IsHead(context.Request.Method)
                ? Task.CompletedTask
                : response.Body.WriteAsync(content, context.RequestAborted).AsTask();
        }
    }
}
