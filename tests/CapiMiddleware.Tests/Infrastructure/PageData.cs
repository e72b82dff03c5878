using System.Text.Json;
using System.Text.RegularExpressions;

namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>Reads the JSON data block that the tag helper renders, the way the snippet does.</summary>
public static partial class PageData
{
    public static JsonElement Read(string html)
    {
        var match = DataBlock().Match(html);
        Assert.True(match.Success, "The page has no #meta-capi-data block:\n" + html);
        using var document = JsonDocument.Parse(match.Groups[1].Value);
        return document.RootElement.Clone();
    }

    /// <summary>The events handed to the Pixel: (method, name, eventId, data).</summary>
    public static IReadOnlyList<(string Method, string Name, string EventId, JsonElement Data)> Events(string html) =>
        [.. Read(html).GetProperty("events").EnumerateArray().Select(e => (
            e.GetProperty("method").GetString()!,
            e.GetProperty("name").GetString()!,
            e.GetProperty("eventId").GetString()!,
            e.GetProperty("data").Clone()))];

    [GeneratedRegex("<script type=\"application/json\" id=\"meta-capi-data\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex DataBlock();
}
