using CapiMiddleware;
using CapiMiddleware.Endpoints;
using Microsoft.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Reports conversions from minimal API endpoints.</summary>
public static class MetaConversionEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Reports the conversion named <paramref name="eventName"/> when the endpoint succeeds (no exception, a 2xx or
    /// redirect result), exactly as <see cref="MetaConversionAttribute"/> does for MVC actions. Inside the handler,
    /// describe the event with <see cref="MetaConversionsHttpContextExtensions.MetaConversion(Http.HttpContext)"/>.
    /// </summary>
    /// <example>
    /// <code>
    /// app.MapPost("/newsletter", (HttpContext http, Signup form) =>
    /// {
    ///     http.MetaConversion().WithUser(u => u.Email = form.Email);
    ///     return Results.Ok();
    /// }).WithMetaConversion("Lead");
    /// </code>
    /// </example>
    /// <typeparam name="TBuilder">The endpoint builder.</typeparam>
    /// <param name="builder">The endpoint.</param>
    /// <param name="eventName">A standard name from <see cref="MetaEventNames"/>, such as <c>Lead</c>, or a custom one. Case-sensitive.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException">The name is empty, longer than 100 characters, or has control or formatting characters, which Meta refuses.</exception>
    public static TBuilder WithMetaConversion<TBuilder>(this TBuilder builder, string eventName)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetaConversion(eventName, acceptBrowserEventId: false);

    /// <summary>
    /// Reports the conversion named <paramref name="eventName"/> when the endpoint succeeds, as
    /// <see cref="WithMetaConversion{TBuilder}(TBuilder, string)"/> does; with <paramref name="acceptBrowserEventId"/>,
    /// the event takes the ID the snippet sends (<c>X-Meta-Event-Id</c>, from <c>metaCapi.track</c>) when the handler
    /// sets none, as <see cref="MetaConversionAttribute.AcceptBrowserEventId"/> does for MVC actions.
    /// </summary>
    /// <example>
    /// <code>
    /// // The page fired the Pixel's Lead with metaCapi.track, which sent its event ID with this request.
    /// app.MapPost("/api/newsletter", (HttpContext http, Signup form) => Results.Ok())
    ///    .WithMetaConversion("Lead", acceptBrowserEventId: true);
    /// </code>
    /// </example>
    /// <typeparam name="TBuilder">The endpoint builder.</typeparam>
    /// <param name="builder">The endpoint.</param>
    /// <param name="eventName">A standard name from <see cref="MetaEventNames"/>, such as <c>Lead</c>, or a custom one. Case-sensitive.</param>
    /// <param name="acceptBrowserEventId">
    /// Whether the event takes the browser's event ID: only where the page fires the Pixel's copy first. The header is
    /// the visitor's to choose, so an endpoint whose ID the server owns (an order number) must leave this off.
    /// </param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException">The name is empty, longer than 100 characters, or has control or formatting characters, which Meta refuses.</exception>
    public static TBuilder WithMetaConversion<TBuilder>(this TBuilder builder, string eventName, bool acceptBrowserEventId)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var attribute = new MetaConversionAttribute(eventName) { AcceptBrowserEventId = acceptBrowserEventId };
        builder.WithMetadata(attribute);
        return builder.AddEndpointFilter(new MetaConversionEndpointFilter(attribute.EventName, acceptBrowserEventId));
    }
}
