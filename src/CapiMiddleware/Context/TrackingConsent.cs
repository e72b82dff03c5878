using System.Buffers;
using CapiMiddleware.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Context;

/// <summary>Whether a request may be tracked, and if not, why.</summary>
internal enum TrackingDecision
{
    Allowed,
    NoConsent,
    Crawler,
}

/// <summary>
/// Decides whether a request may carry Meta's cookies and report events: not for crawlers
/// (<see cref="MetaConversionsOptions.CrawlerUserAgents"/>), then the site's
/// <see cref="MetaConversionsOptions.ConsentResolver"/> when it answers, then ASP.NET Core's
/// <see cref="ITrackingConsentFeature"/> (the CookiePolicy middleware), else yes. Allocates nothing.
/// </summary>
internal sealed class TrackingConsent
{
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TrackingConsent> _logger;
    private CrawlerMatcher _crawlers;
    private readonly LogThrottle _resolverFailures = new(LogThrottle.PerMinute);

    public TrackingConsent(IOptionsMonitor<MetaConversionsOptions> options, TimeProvider time, ILogger<TrackingConsent> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _crawlers = CrawlerMatcher.For(options.CurrentValue.CrawlerUserAgents);
    }

    public TrackingDecision Decide(HttpContext context)
    {
        var options = _options.CurrentValue;
        if (IsCrawler(context.Request, options))
        {
            return TrackingDecision.Crawler;
        }

        return HasConsent(context, options) ? TrackingDecision.Allowed : TrackingDecision.NoConsent;
    }

    public bool Allows(HttpContext context) => Decide(context) == TrackingDecision.Allowed;

    private bool IsCrawler(HttpRequest request, MetaConversionsOptions options)
    {
        var crawlers = _crawlers;
        if (!ReferenceEquals(crawlers.Source, options.CrawlerUserAgents))
        {
            // The options were reloaded (or set anew): build the matcher once for the new list.
            crawlers = CrawlerMatcher.For(options.CrawlerUserAgents);
            _crawlers = crawlers;
        }

        if (crawlers.Values is not { } values)
        {
            return false;
        }

        foreach (var agent in request.Headers.UserAgent)
        {
            if (agent is not null && agent.AsSpan().ContainsAny(values))
            {
                return true;
            }
        }

        return false;
    }

    private bool HasConsent(HttpContext context, MetaConversionsOptions options)
    {
        if (options.ConsentResolver is { } resolver)
        {
            try
            {
                if (resolver(context) is { } answer)
                {
                    return answer;
                }
            }
            catch (Exception ex)
            {
                // A consent platform's bug must not break the page; without its answer, the usual rules decide.
                ReportResolverFailure(ex);
            }
        }

        return context.Features.Get<ITrackingConsentFeature>()?.CanTrack ?? true;
    }

    private void ReportResolverFailure(Exception exception)
    {
        if (_resolverFailures.ShouldLog(_time, out var failures))
        {
            Log.ConsentResolverFailed(_logger, exception, failures);
        }
    }

    /// <summary>The crawler list as it was configured, and the matcher built from it once.</summary>
    private sealed class CrawlerMatcher(IList<string>? source, SearchValues<string>? values)
    {
        public IList<string>? Source { get; } = source;

        public SearchValues<string>? Values { get; } = values;

        public static CrawlerMatcher For(IList<string>? configured)
        {
            var names = ((IEnumerable<string>?)configured ?? MetaConversionsOptions.DefaultCrawlerUserAgents)
                .Where(name => !string.IsNullOrWhiteSpace(name))
                .ToArray();
            return new CrawlerMatcher(configured, names.Length == 0 ? null : SearchValues.Create(names, StringComparison.OrdinalIgnoreCase));
        }
    }
}
