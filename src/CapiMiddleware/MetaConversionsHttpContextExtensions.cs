using CapiMiddleware.Context;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware;

/// <summary>Reach the current request's conversion and identifiers from an <see cref="HttpContext"/>.</summary>
public static class MetaConversionsHttpContextExtensions
{
    /// <summary>
    /// The conversion that this request will report, declared by <see cref="MetaConversionAttribute"/> on the action or
    /// its controller. Describe it here (event ID, value, products, user); it is sent only if the action succeeds.
    /// </summary>
    /// <param name="context">The current request.</param>
    /// <returns>The event's builder.</returns>
    /// <exception cref="InvalidOperationException">No <see cref="MetaConversionAttribute"/> applies to this action, or several do.</exception>
    public static ConversionEventBuilder MetaConversion(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var declared = ConversionScope.Find(context)?.Declared;
        return declared switch
        {
            { Count: 1 } => declared[0],
            { Count: > 1 } => throw new InvalidOperationException(
                $"Several conversions are declared for this action ({string.Join(", ", declared.Select(d => d.EventName))}); call HttpContext.MetaConversion(\"Name\") to pick one."),
            _ => throw new InvalidOperationException(
                "No conversion is declared for this action: add [MetaConversion(\"EventName\")] to the action or its controller."),
        };
    }

    /// <summary>The conversion named <paramref name="eventName"/> that this request will report.</summary>
    /// <param name="context">The current request.</param>
    /// <param name="eventName">The name given to <see cref="MetaConversionAttribute"/>.</param>
    /// <returns>The event's builder.</returns>
    /// <exception cref="InvalidOperationException">No conversion of that name is declared for this action.</exception>
    public static ConversionEventBuilder MetaConversion(this HttpContext context, string eventName)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        var declared = ConversionScope.Find(context)?.Declared;
        if (declared is not null)
        {
            foreach (var builder in declared)
            {
                if (builder.EventName == eventName)
                {
                    return builder;
                }
            }
        }

        throw new InvalidOperationException(
            $"No conversion named '{eventName}' is declared for this action: add [MetaConversion(\"{eventName}\")] to the action or its controller (names are case-sensitive).");
    }

    /// <summary>The identifiers of the current request that events carry: click ID, browser ID, IP address, user agent, page URL.</summary>
    /// <param name="context">The current request.</param>
    /// <returns>The request's identifiers, computed on first use.</returns>
    public static IMetaRequestContext GetMetaRequestContext(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return MetaRequestContext.Get(context);
    }

    /// <summary>
    /// Whether this request may be tracked: the library is enabled, the visitor is no crawler, and consent is given
    /// (<see cref="MetaConversionsOptions.ConsentResolver"/>, else ASP.NET Core's tracking consent feature). A layout
    /// with Meta's own Pixel base code writes <c>fbq('consent', 'revoke')</c> before <c>fbq('init', ...)</c> when this is
    /// <see langword="false"/>.
    /// </summary>
    /// <param name="context">The current request.</param>
    /// <returns><see langword="true"/> when cookies may be set and events reported for this request.</returns>
    public static bool IsMetaTrackingAllowed(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var services = context.RequestServices;
        return services.GetRequiredService<IOptionsMonitor<MetaConversionsOptions>>().CurrentValue.Enabled
            && services.GetRequiredService<TrackingConsent>().Allows(context);
    }
}
