using CapiMiddleware.Context;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CapiMiddleware;

/// <summary>Reach the current request's conversion and identifiers from an <see cref="HttpContext"/>.</summary>
public static class MetaConversionsHttpContextExtensions
{
    /// <summary>
    /// The one conversion that this request will report, declared by <see cref="MetaConversionAttribute"/> on the action,
    /// its controller or its Razor Page, by <c>.WithMetaConversion(...)</c>, or by an earlier
    /// <see cref="MetaConversion(HttpContext, string)"/>. Describe it here (event ID, value, products, user); it is sent
    /// only if the request succeeds. To declare one in code, name it: <see cref="MetaConversion(HttpContext, string)"/>.
    /// </summary>
    /// <param name="context">The current request.</param>
    /// <returns>The event's builder.</returns>
    /// <exception cref="InvalidOperationException">No conversion is declared for this request, or several are: a programming error, with a message that says how to fix it.</exception>
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
                "No conversion is declared for this action: add [MetaConversion(\"EventName\")] to the action or its controller, or name the event: HttpContext.MetaConversion(\"EventName\")."),
        };
    }

    /// <summary>
    /// The conversion named <paramref name="eventName"/> that this request will report. When an attribute,
    /// <c>.WithMetaConversion(...)</c> or an earlier call declared it, that one; otherwise it is declared here, for code
    /// paths without attributes (a handler, a page, a middleware), and reported if the response succeeds (a 2xx or
    /// redirect status): the server's copy is queued and the Pixel's copy goes to the page that renders
    /// <c>&lt;meta-pixel /&gt;</c> after this call, or across the redirect to the next one.
    /// </summary>
    /// <example>
    /// <code>
    /// if (await newsletter.SubscribeAsync(email))
    /// {
    ///     HttpContext.MetaConversion("Lead").WithUser(u => u.Email = email);
    /// }
    /// </code>
    /// </example>
    /// <param name="context">The current request.</param>
    /// <param name="eventName">A standard name from <see cref="MetaEventNames"/>, such as <c>Lead</c>, or a custom one. Case-sensitive.</param>
    /// <returns>The event's builder.</returns>
    /// <exception cref="InvalidOperationException">The library's services are not registered (<c>AddMetaConversions</c>).</exception>
    /// <exception cref="ArgumentException">The name is empty, longer than 100 characters, or has control or formatting characters, which Meta refuses.</exception>
    public static ConversionEventBuilder MetaConversion(this HttpContext context, string eventName)
    {
        ArgumentNullException.ThrowIfNull(context);
        MetaEventNames.Require(eventName);
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

        return ConversionRecorder.Require(context.RequestServices, $"HttpContext.MetaConversion(\"{eventName}\")")
            .DeclareAwaitingResponse(context, eventName);
    }

    /// <summary>
    /// Captures this visitor's identity under <paramref name="key"/> when they start paying (the action that creates the
    /// pending order and sends them to the payment provider): click ID, browser ID, IP address, user agent, page URL,
    /// consent, and the user fields <paramref name="user"/> sets, hashed before they are kept. The payment provider's
    /// webhook then reports the Purchase with
    /// <c>queue.EnqueueAsync(new ConversionEvent("Purchase") { ... }.WithIdentityOf(key))</c>. Kept in the durable
    /// outbox store when there is one (SQLite, Redis: another node may receive the webhook), else in memory, for
    /// <c>MetaConversions:Identities:Lifetime</c>, and used once. Without consent only that fact is kept, and the
    /// confirmation reports nothing. Never throws into the request once the key is valid.
    /// </summary>
    /// <example>
    /// <code>
    /// var order = await orders.CreatePendingAsync(form);
    /// await HttpContext.CaptureMetaIdentityAsync(order.Id, u => { u.Email = form.Email; u.Phone = form.Phone; });
    /// return Redirect(await payments.CreateSessionAsync(order));
    /// </code>
    /// </example>
    /// <param name="context">The current request.</param>
    /// <param name="key">The order ID or payment session ID the confirmation will name.</param>
    /// <param name="user">Sets the user fields to keep (raw values; they are hashed), or null.</param>
    /// <param name="cancellationToken">Cancels waiting for a durable store.</param>
    /// <returns>A task that completes when the identity is kept.</returns>
    /// <exception cref="ArgumentException">The key is empty, longer than 200 characters, or has control characters.</exception>
    /// <exception cref="InvalidOperationException">The library's services are not registered (<c>AddMetaConversions</c>).</exception>
    public static ValueTask CaptureMetaIdentityAsync(
        this HttpContext context, string key, Action<UserData>? user = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        Identity.IdentityKeys.Require(key);
        var identities = context.RequestServices.GetService<Identity.CapturedIdentities>()
            ?? throw new InvalidOperationException(
                "CaptureMetaIdentityAsync needs the library's services: call builder.Services.AddMetaConversions(...) in Program.cs.");
        return identities.CaptureAsync(context, key, user, cancellationToken);
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
