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
/// Serves the inspector under <c>/_capi/inspector</c>: the page, its script and style sheet (separate files, so it works
/// under a strict Content Security Policy, and it sends its own), and <c>events.json</c>, which the page polls. While
/// the inspector is off its paths are left to the application, so nothing tells that it exists; with a policy, a
/// request that fails it is challenged or forbidden as the policy's schemes do it.
/// </summary>
internal sealed class InspectorMiddleware
{
    public const string BasePath = SnippetFile.BasePath + "/inspector";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Asset Page = new("inspector.html", "text/html; charset=utf-8");
    private static readonly Asset Script = new("inspector.js", "text/javascript; charset=utf-8");
    private static readonly Asset StyleSheet = new("inspector.css", "text/css; charset=utf-8");

    private readonly RequestDelegate _next;
    private readonly RecentEvents _events;
    private readonly PixelReach _reach;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly ILogger<InspectorMiddleware> _logger;
    private readonly TimeProvider _time;
    private readonly LogThrottle _policyMissing = new(LogThrottle.PerMinute);

    public InspectorMiddleware(RequestDelegate next, RecentEvents events, PixelReach reach, IOptionsMonitor<MetaConversionsOptions> options, TimeProvider time, ILogger<InspectorMiddleware> logger)
    {
        _time = time;
        _reach = reach;
        _next = next;
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

    public Task Invoke(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(BasePath, StringComparison.Ordinal, out var rest))
        {
            return _next(context);
        }

        var state = _events.State;
        if (state is InspectorState.Off or InspectorState.OffWithoutPolicy || Route(rest.Value) is not { } serve)
        {
            return _next(context);
        }

        return ServeAsync(context, state, serve);
    }

    /// <summary>What a path under <see cref="BasePath"/> serves; <see langword="null"/> leaves it to the application.</summary>
    private Func<HttpContext, Task>? Route(string? rest) => rest switch
    {
        null or "" or "/" => WritePageAsync,
        "/inspector.js" => Script.WriteAsync,
        "/inspector.css" => StyleSheet.WriteAsync,
        "/events.json" => WriteEventsAsync,
        "/summary.json" => WriteSummaryAsync,
        _ => null,
    };

    private async Task ServeAsync(HttpContext context, InspectorState state, Func<HttpContext, Task> serve)
    {
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
                    if (_policyMissing.ShouldLog(_time, out var occurrences))
                    {
                        Log.InspectorPolicyMissing(_logger, policy, occurrences);
                    }

                    await _next(context).ConfigureAwait(false);
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
    /// Evaluates the policy as the authorization middleware would. The library may sit before <c>UseAuthentication</c>,
    /// so a policy without schemes authenticates with the default scheme here, as the authentication middleware would.
    /// </summary>
    private static async Task<Access> AuthorizeAsync(HttpContext context, string policyName)
    {
        var services = context.RequestServices;
        var evaluator = services.GetService<IPolicyEvaluator>();
        if (evaluator is null || services.GetService<IAuthorizationPolicyProvider>() is not { } provider
            || await provider.GetPolicyAsync(policyName).ConfigureAwait(false) is not { } policy)
        {
            return Access.NoPolicy;
        }

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
        return WriteJsonAsync(context, body => InspectorJson.WriteEvents(body, _events.Since(since), _options.CurrentValue, _reach.Snapshot()));
    }

    private Task WriteSummaryAsync(HttpContext context) =>
        WriteJsonAsync(context, body => InspectorJson.WriteSummary(body, _reach.Snapshot()));

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
