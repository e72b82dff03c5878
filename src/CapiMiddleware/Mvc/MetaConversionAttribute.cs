using CapiMiddleware.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace CapiMiddleware;

/// <summary>
/// Reports a conversion to Meta when the action succeeds (a 2xx or redirect result, no exception, valid model state):
/// the server's copy is queued and sent in the background, and the Pixel's copy is handed to the page, both with one
/// event ID. Inside the action, describe the event with
/// <see cref="MetaConversionsHttpContextExtensions.MetaConversion(Microsoft.AspNetCore.Http.HttpContext)"/>.
/// </summary>
/// <remarks>
/// On a controller it applies to every action. In Razor Pages, on a handler method (<c>OnPostAsync</c>) it applies to
/// that handler; on the page model class, to the page's handlers other than GET and HEAD, because showing a form is not
/// the conversion, submitting it is (put it on <c>OnGet</c> to report page views such as <c>ViewContent</c>).
/// </remarks>
/// <example>
/// <code>
/// [MetaConversion("Purchase")]
/// public async Task&lt;IActionResult&gt; Checkout(CheckoutForm form)
/// {
///     var order = await orders.PlaceAsync(form);
///     HttpContext.MetaConversion().UseEventId(order.Id).WithValue(order.Total, "USD");
///     return RedirectToAction("Confirmation", new { order.Id });
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true, Inherited = true)]
public sealed class MetaConversionAttribute : Attribute, IFilterFactory, IOrderedFilter
{
    /// <summary>Reports the conversion named <paramref name="eventName"/>.</summary>
    /// <param name="eventName">A standard name from <see cref="MetaEventNames"/>, such as <c>Purchase</c>, or a custom one. Case-sensitive.</param>
    /// <exception cref="ArgumentException">The name is empty, longer than 100 characters, or has control or formatting characters, which Meta refuses.</exception>
    public MetaConversionAttribute(string eventName)
    {
        EventName = MetaEventNames.Require(eventName);
    }

    /// <summary>The event's name.</summary>
    public string EventName { get; }

    /// <summary>
    /// Whether the event takes the ID that the snippet sends with the request (<c>X-Meta-Event-Id</c>, from
    /// <c>metaCapi.track</c>) when the action sets none with <see cref="ConversionEventBuilder.UseEventId(string)"/>.
    /// Set it where the page fires the Pixel's copy first, such as an add-to-cart button that posts with
    /// <c>metaCapi.track</c>; leave it off where the server owns the ID (a checkout whose order number is the event
    /// ID), because the header is the visitor's to choose. The default value is <see langword="false"/>: the header is
    /// ignored. An ID set by the action always wins.
    /// </summary>
    public bool AcceptBrowserEventId { get; set; }

    /// <inheritdoc />
    public int Order { get; set; }

    /// <inheritdoc />
    public bool IsReusable => true;

    /// <inheritdoc />
    public IFilterMetadata CreateInstance(IServiceProvider serviceProvider)
    {
        ArgumentNullException.ThrowIfNull(serviceProvider);
        return new MetaConversionFilter(EventName, AcceptBrowserEventId, Context.ConversionRecorder.Require(serviceProvider, "[MetaConversion]"));
    }
}
