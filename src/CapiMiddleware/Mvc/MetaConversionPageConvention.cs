using System.Reflection;
using Microsoft.AspNetCore.Mvc.ApplicationModels;

namespace CapiMiddleware.Mvc;

/// <summary>
/// Gives Razor Pages the attribute's meaning. Pages run no action filters, and attributes on handler methods are not
/// filters at all, so this reads <see cref="MetaConversionAttribute"/> from the page model class and its handlers when
/// the page is discovered, and adds one page filter to the pages that use it (others pay nothing):
/// <list type="bullet">
/// <item>on a handler method (<c>OnPostAsync</c>, <c>OnGet</c>, <c>OnPostSubscribeAsync</c>): that handler reports it;</item>
/// <item>on the page model class (or <c>@attribute</c> in the page): every handler that is not a GET or HEAD reports
/// it, because showing a page's form is not the conversion, submitting it is.</item>
/// </list>
/// Registered by <c>AddMetaConversions</c> through <c>RazorPagesOptions</c>, which only apps with Razor Pages read.
/// </summary>
internal sealed class MetaConversionPageConvention : IPageApplicationModelConvention
{
    public void Apply(PageApplicationModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var pageAttributes = model.HandlerTypeAttributes.OfType<MetaConversionAttribute>().ToArray();

        // The class attribute is also a filter factory; in a page its action filter would never run. The page filter replaces it.
        for (var i = model.Filters.Count - 1; i >= 0; i--)
        {
            if (model.Filters[i] is MetaConversionAttribute)
            {
                model.Filters.RemoveAt(i);
            }
        }

        var handlers = new Dictionary<MethodInfo, PageConversion[]>();
        foreach (var handler in model.HandlerMethods)
        {
            var own = handler.Attributes.OfType<MetaConversionAttribute>();
            var conversions = (ShowsThePage(handler.HttpMethod) ? own : own.Concat(pageAttributes))
                .GroupBy(a => a.EventName, StringComparer.Ordinal)
                .Select(g => new PageConversion(g.Key, g.Any(a => a.AcceptBrowserEventId)))
                .ToArray();
            if (conversions.Length > 0)
            {
                handlers[handler.MethodInfo] = conversions;
            }
        }

        if (handlers.Count > 0)
        {
            model.Filters.Add(new MetaConversionPageFilter(handlers));
        }
    }

    private static bool ShowsThePage(string httpMethod) =>
        string.Equals(httpMethod, "Get", StringComparison.OrdinalIgnoreCase) || string.Equals(httpMethod, "Head", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A conversion a page handler reports: one per name, accepting the browser's event ID if any attribute of that name does.</summary>
internal readonly record struct PageConversion(string EventName, bool AcceptBrowserEventId);
