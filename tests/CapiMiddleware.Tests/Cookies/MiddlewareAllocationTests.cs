using CapiMiddleware.Context;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Tests.Cookies;

/// <summary>
/// Requests with nothing to do (a returning visitor's page view, an image, an API call) must cost a glance and no
/// allocation. Allocation counts on one thread are exact, not timed, so this holds on a noisy machine too.
/// </summary>
public sealed class MiddlewareAllocationTests
{
    [Theory]
    [InlineData("GET", "text/html", null, "_fbp=fb.1.1700000000000.1234567890; session=abc")]
    [InlineData("GET", "image/avif,image/webp,*/*", "image", null)]
    [InlineData("POST", "application/json", "empty", "_fbc=fb.1.1700000000000.AbC")]
    public void A_request_with_nothing_to_do_allocates_nothing(string method, string accept, string? secFetchDest, string? cookie)
    {
        using var services = new ServiceCollection().AddLogging().AddMetaConversions(_ => { }).BuildServiceProvider();
        var middleware = CreateMiddleware(services);

        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = "/products/1";
        context.Request.QueryString = new QueryString("?utm_source=newsletter");
        context.Request.Headers.Accept = accept;
        context.Request.Headers.UserAgent = "Mozilla/5.0";
        context.Request.Headers.Referer = "https://shop.example.com/";
        if (secFetchDest is not null)
        {
            context.Request.Headers["Sec-Fetch-Dest"] = secFetchDest;
        }

        if (cookie is not null)
        {
            context.Request.Headers.Cookie = cookie;
        }

        Assert.Equal(0, AllocatedByASecondRequest(middleware, context));
        Assert.False(context.Response.Headers.ContainsKey("Set-Cookie"));
    }

    /// <summary>
    /// A new visitor's page view that may not be tracked (a crawler, or no consent): the decision itself allocates
    /// nothing, and no cookie is set.
    /// </summary>
    [Theory]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true)]
    [InlineData("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", true)]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", false)]
    public void A_page_view_that_may_not_be_tracked_allocates_nothing_and_sets_no_cookie(string userAgent, bool consent)
    {
        using var services = new ServiceCollection().AddLogging().AddMetaConversions(_ => { }).BuildServiceProvider();
        var middleware = CreateMiddleware(services);

        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/products/1";
        context.Request.Headers.Accept = "text/html";
        context.Request.Headers.UserAgent = userAgent;
        context.Features.Set<ITrackingConsentFeature>(new ConsentFeature(consent));

        Assert.Equal(0, AllocatedByASecondRequest(middleware, context));
        Assert.False(context.Response.Headers.ContainsKey("Set-Cookie"));
    }

    private static MetaConversionsMiddleware CreateMiddleware(IServiceProvider services) => new(
        static _ => Task.CompletedTask,
        services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>(),
        TimeProvider.System,
        services.GetRequiredService<TrackingConsent>(),
        NullLogger<MetaConversionsMiddleware>.Instance);

    /// <summary>The bytes the second of two identical requests allocates (the first warms up options, JIT and matchers).</summary>
    private static long AllocatedByASecondRequest(MetaConversionsMiddleware middleware, HttpContext context)
    {
        // Completes synchronously on this path: no state machine, and the count below stays on this thread.
        Assert.True(middleware.Invoke(context).IsCompletedSuccessfully);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var completed = middleware.Invoke(context).IsCompletedSuccessfully;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(completed);
        return allocated;
    }

    /// <summary>What the CookiePolicy middleware puts on a request, reduced to its answer.</summary>
    private sealed class ConsentFeature(bool canTrack) : ITrackingConsentFeature
    {
        public bool IsConsentNeeded => true;

        public bool HasConsent => canTrack;

        public bool CanTrack => canTrack;

        public void GrantConsent() => throw new NotSupportedException();

        public void WithdrawConsent() => throw new NotSupportedException();

        public string CreateConsentCookie() => throw new NotSupportedException();
    }
}
