using CapiMiddleware.Events;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Context;

/// <summary>The conversions of one request: those declared by its filters, and the Pixel events its page will render.</summary>
internal sealed class ConversionScope
{
    private readonly List<ConversionEventBuilder> _declared = new(1);
    private List<ConversionEventBuilder>? _awaitingResponse;

    /// <summary>Committed events the page hands to the Pixel.</summary>
    public List<PixelEvent> PixelEvents { get; } = [];

    /// <summary>
    /// Conversions of a shared (cached) page, declared for the snippet to report per visitor, with no event ID: see
    /// <see cref="SharedPages"/>.
    /// </summary>
    public List<PixelEvent> SharedDeclarations { get; } = [];

    /// <summary>Whether the page data was rendered already, so a second tag helper in the same page renders no events twice.</summary>
    public bool PixelEventsRendered { get; set; }

    /// <summary>
    /// The events the redirect cookie holds for the next page as this response stands: <see langword="null"/> until
    /// this request reads the cookie or writes it, so several events carried by one response add up.
    /// </summary>
    public List<PixelEvent>? CarriedPixelEvents { get; set; }

    /// <summary>Which response callback will commit the conversions declared in code (none yet, when starting, when completed).</summary>
    public ResponseHook Hook { get; set; }

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

    /// <summary>
    /// Declares the conversion <paramref name="eventName"/>, or returns the one of that name declared already: an
    /// attribute on the controller and one on the action, or an attribute and a call in code, name one event, not two.
    /// </summary>
    /// <param name="eventName">The event's name (case-sensitive).</param>
    /// <param name="request">The request's identifiers.</param>
    /// <param name="acceptBrowserEventId">Whether this declaration takes the snippet's event ID; any of several declarations may.</param>
    public ConversionEventBuilder Declare(string eventName, IMetaRequestContext request, bool acceptBrowserEventId = false)
    {
        ConversionEventBuilder? builder = null;
        foreach (var declared in _declared)
        {
            if (declared.EventName == eventName)
            {
                builder = declared;
                break;
            }
        }

        if (builder is null)
        {
            builder = new ConversionEventBuilder(eventName, request.BrowserEventId);
            _declared.Add(builder);
        }

        if (acceptBrowserEventId)
        {
            builder.AcceptBrowserEventId();
        }

        return builder;
    }

    public IReadOnlyList<ConversionEventBuilder> Declared => _declared;

    /// <summary>Declares a conversion that no filter commits: it is committed once the response shows whether the request succeeded.</summary>
    public ConversionEventBuilder DeclareAwaitingResponse(string eventName, IMetaRequestContext request)
    {
        var builder = Declare(eventName, request);
        (_awaitingResponse ??= new(1)).Add(builder);
        return builder;
    }

    /// <summary>Hands over the conversions still waiting for the response, once.</summary>
    public ConversionEventBuilder[] TakeAwaitingResponse()
    {
        if (_awaitingResponse is not { Count: > 0 } waiting)
        {
            return [];
        }

        var taken = waiting.ToArray();
        waiting.Clear();
        return taken;
    }

    internal enum ResponseHook
    {
        None,
        OnStarting,
        OnCompleted,
    }
}
