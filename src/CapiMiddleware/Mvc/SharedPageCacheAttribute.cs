namespace CapiMiddleware;

/// <summary>
/// Marks pages whose HTML a shared cache (a CDN, a reverse proxy) keeps and serves to every visitor, whatever their
/// response headers say. On such pages, as on pages the ASP.NET Core output cache stores or whose <c>Cache-Control</c>
/// is <c>public</c> or has <c>s-maxage</c>, the library renders no per-visitor state: the conversions the page reports
/// are declared in it (signed, so nobody can invent events or values), and the snippet mints each visitor's event ID,
/// fires the Pixel with it and sends the server's copy through <c>POST /_capi/events</c>
/// (<c>app.MapMetaConversions()</c>). Without JavaScript such pages report nothing.
/// </summary>
/// <example>
/// <code>
/// [HttpGet("/products/{id}")]
/// [MetaConversion(MetaEventNames.ViewContent)]
/// [SharedPageCache] // the CDN keeps product pages for an hour
/// public IActionResult Product(string id) { ... }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class SharedPageCacheAttribute : Attribute;
