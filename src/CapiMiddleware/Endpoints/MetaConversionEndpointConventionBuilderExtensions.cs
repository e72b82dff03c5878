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
    public static TBuilder WithMetaConversion<TBuilder>(this TBuilder builder, string eventName)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        builder.WithMetadata(new MetaConversionAttribute(eventName));
        return builder.AddEndpointFilter(new MetaConversionEndpointFilter(eventName));
    }
}
