using System.Text.Json;
using System.Text.Json.Serialization;
using CapiMiddleware.Dispatch;

namespace CapiMiddleware.Events;

/// <summary>Source-generated serialization for everything this library puts on the wire or into a page.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GraphEvent))]
[JsonSerializable(typeof(PixelPageData))]
[JsonSerializable(typeof(List<PixelEvent>))]
[JsonSerializable(typeof(Context.SharedDeclaration))]
[JsonSerializable(typeof(Serving.BrowserEventsReply))]
[JsonSerializable(typeof(GraphResponse))]
[JsonSerializable(typeof(GraphErrorEnvelope))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(decimal))]
internal sealed partial class GraphJsonContext : JsonSerializerContext
{
    public static JsonElement ToElement(object? value) => value switch
    {
        null => JsonSerializer.SerializeToElement<string?>(null, Default.String),
        string s => JsonSerializer.SerializeToElement(s, Default.String),
        bool b => JsonSerializer.SerializeToElement(b, Default.Boolean),
        int or long or short or byte or sbyte or ushort or uint => JsonSerializer.SerializeToElement(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture), Default.Int64),
        decimal m => JsonSerializer.SerializeToElement(m, Default.Decimal),
        double or float when double.IsFinite(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)) =>
            JsonSerializer.SerializeToElement(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), Default.Double),
        IEnumerable<string> list => JsonSerializer.SerializeToElement(list.ToArray(), Default.StringArray),
        IFormattable f => JsonSerializer.SerializeToElement(f.ToString(null, System.Globalization.CultureInfo.InvariantCulture), Default.String),
        _ => JsonSerializer.SerializeToElement(value.ToString(), Default.String),
    };
}
