using CapiMiddleware.Events;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Context;

/// <summary>The conversions of one request: those declared by its filters, and the Pixel events its page will render.</summary>
internal sealed class ConversionScope
{
    private readonly List<ConversionEventBuilder> _declared = new(1);

    /// <summary>Committed events the page hands to the Pixel.</summary>
    public List<PixelEvent> PixelEvents { get; } = [];

    /// <summary>Whether the page data was rendered already, so a second tag helper in the same page renders no events twice.</summary>
    public bool PixelEventsRendered { get; set; }

    public static ConversionScope Get(HttpContext httpContext)
    {
        var scope = httpContext.Features.Get<ConversionScope>();
        if (scope is null)
        {
            scope = new ConversionScope();
            httpContext.Features.Set(scope);
        }

        return scope;
    }

    public static ConversionScope? Find(HttpContext httpContext) => httpContext.Features.Get<ConversionScope>();

    public ConversionEventBuilder Declare(string eventName, IMetaRequestContext request)
    {
        var builder = new ConversionEventBuilder(eventName, request.BrowserEventId);
        _declared.Add(builder);
        return builder;
    }

    public IReadOnlyList<ConversionEventBuilder> Declared => _declared;
}
