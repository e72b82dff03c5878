using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CapiMiddleware.Events;

namespace CapiMiddleware.Tests.Events;

/// <summary>
/// Every serialized property of the wire model (<see cref="GraphEvent"/> and the objects it holds, found by reflection, so
/// a property added later is included) set to a value of its own, then written by the hand-written
/// <see cref="GraphEventJson"/> and by the source-generated serializer: a field the model gains and the writer does not
/// write makes the two differ, and is named.
/// </summary>
public sealed class GraphEventJsonEveryPropertyTests
{
    [Fact]
    public void Every_serialized_property_of_the_wire_model_is_written_as_the_source_generated_serializer_writes_it()
    {
        var filler = new WireModelFiller();
        var graphEvent = (GraphEvent)filler.Create(typeof(GraphEvent), nameof(GraphEvent));

        var written = Encoding.UTF8.GetString(GraphEventJson.Serialize(graphEvent));
        using var document = JsonDocument.Parse(written);
        AssertEveryPropertyWritten(graphEvent, document.RootElement, "$");
        var expected = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(graphEvent, GraphJsonContext.Default.GraphEvent));
        Assert.Equal(expected, written);
        // Not an empty walk: the model had 122 to set when issue 18's fields were added (the two contents counted apart).
        Assert.True(filler.PropertiesSet >= 122, $"Only {filler.PropertiesSet} properties were set.");
    }

    /// <summary>
    /// The other side: every key Meta's SDKs send (Node SDK 24.0.1 and Python SDK 25.0.2 <c>normalize()</c>, plus the
    /// keys only Meta's documentation has) is a property of the wire model, so the walk above covers it. Event-level
    /// <c>advertiser_tracking_enabled</c> (Node only; the newer Python SDK dropped it) is sent in <c>app_data</c> only.
    /// </summary>
    [Theory]
    [InlineData("", "event_name event_time event_id action_source event_source_url referrer_url opt_out data_processing_options data_processing_options_country data_processing_options_state user_data custom_data app_data advanced_measurement_table messaging_channel original_event_data attribution_data")]
    [InlineData("user_data", "em ph ge db ln fn ct st zp country external_id client_ip_address client_user_agent fbc fbp subscription_id fb_login_id lead_id f5first f5last fi dobd dobm doby madid anon_id app_user_id ctwa_clid page_id page_scoped_user_id ig_account_id ig_sid whatsapp_business_account_id instagram_business_account_id")]
    [InlineData("custom_data", "value net_revenue currency content_name content_category content_ids contents content_type order_id predicted_ltv num_items search_string status item_number delivery_category")]
    [InlineData("custom_data.contents[0]", "id quantity item_price title description brand category delivery_category")]
    [InlineData("app_data", "application_tracking_enabled advertiser_tracking_enabled campaign_ids consider_views extinfo include_dwell_data include_video_data install_referrer installer_package receipt_data url_schemes vendor_id windows_attribution_id")]
    [InlineData("original_event_data", "event_name event_time order_id event_id")]
    [InlineData("attribution_data", "scope visit_time ad_id adset_id campaign_id attribution_share attribution_model attr_window attribution_value attribution_source touchpoint_type touchpoint_ts attribution_method decline_reason auditing_token linkage_key touchpoint_id attribution_setting total_credit partner_client_id")]
    [InlineData("attribution_data.attribution_setting", "inactivity_window_hours reattribution_window_hours")]
    public void Every_key_Meta_s_SDKs_send_is_in_the_wire_model_and_written(string path, string keys)
    {
        var graphEvent = (GraphEvent)new WireModelFiller().Create(typeof(GraphEvent), nameof(GraphEvent));
        using var document = JsonDocument.Parse(GraphEventJson.Serialize(graphEvent));
        var json = document.RootElement;
        foreach (var step in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            json = step.EndsWith("[0]", StringComparison.Ordinal) ? json.GetProperty(step[..^3])[0] : json.GetProperty(step);
        }

        var missing = keys.Split(' ').Where(key => !json.TryGetProperty(key, out _)).ToList();
        Assert.True(missing.Count == 0, $"The written event has no {string.Join(", ", missing)} in ${(path.Length == 0 ? "" : "." + path)}: the wire model lacks it, or the writer leaves it out.");
    }

    /// <summary>Each serialized property of <paramref name="model"/>, found under its JSON name with its value.</summary>
    private static void AssertEveryPropertyWritten(object model, JsonElement json, string path)
    {
        Assert.Equal(JsonValueKind.Object, json.ValueKind);
        foreach (var property in WireModelFiller.SerializedProperties(model.GetType()))
        {
            var value = property.GetValue(model);
            if (value is null)
            {
                continue;
            }

            if (property.IsDefined(typeof(JsonExtensionDataAttribute)))
            {
                foreach (DictionaryEntry entry in (IDictionary)value)
                {
                    var key = (string)entry.Key;
                    Assert.True(json.TryGetProperty(key, out var extra), $"The writer left out {path}.{key}, an entry of {Describe(property)}.");
                    Assert.Equal(((JsonElement)entry.Value!).GetRawText(), extra.GetRawText());
                }

                continue;
            }

            var name = WireModelFiller.JsonName(property);
            Assert.True(json.TryGetProperty(name, out var member), $"The writer left out {path}.{name}: {Describe(property)}.");
            AssertWritten(value, member, $"{path}.{name}");
        }
    }

    private static void AssertWritten(object value, JsonElement json, string path)
    {
        if (WireModelFiller.IsModel(value.GetType()))
        {
            AssertEveryPropertyWritten(value, json, path);
        }
        else if (value is IEnumerable items and not string)
        {
            var elements = json.EnumerateArray().ToArray();
            var index = 0;
            foreach (var item in items)
            {
                Assert.True(index < elements.Length, $"The writer wrote {elements.Length} items at {path}, fewer than the model holds.");
                AssertWritten(item, elements[index], $"{path}[{index}]");
                index++;
            }

            Assert.Equal(index, elements.Length);
        }
        else
        {
            var expected = JsonSerializer.Serialize(value, GraphJsonContext.Default.GetTypeInfo(value.GetType())!);
            Assert.True(expected == json.GetRawText(), $"The writer wrote {json.GetRawText()} at {path}, not {expected}.");
        }
    }

    private static string Describe(PropertyInfo property) => $"{property.DeclaringType!.Name}.{property.Name}";

    /// <summary>
    /// Builds a wire-model object with every settable serialized property holding a value no other property holds
    /// (strings and numbers numbered in order, lists of two, nested objects filled in turn).
    /// </summary>
    private sealed class WireModelFiller
    {
        private int _next;

        public int PropertiesSet { get; private set; }

        /// <summary>The model's own types, filled property by property; everything else is a value.</summary>
        public static bool IsModel(Type type) =>
            type.IsClass && !type.IsArray && type.Namespace == typeof(GraphEvent).Namespace;

        public static IEnumerable<PropertyInfo> SerializedProperties(Type type) =>
            type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
                .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always });

        public static string JsonName(PropertyInfo property) =>
            property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
            ?? GraphJsonContext.Default.Options.PropertyNamingPolicy?.ConvertName(property.Name)
            ?? property.Name;

        public object Create(Type type, string owner)
        {
            // A record with a primary constructor (GraphContent) has no parameterless one: fill its parameters.
            var constructor = type.GetConstructor(Type.EmptyTypes)
                ?? type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
            var parameters = constructor.GetParameters();
            var model = constructor.Invoke(Array.ConvertAll(parameters, p => ValueOf(p.ParameterType, $"{owner}({p.Name})")));
            PropertiesSet += parameters.Length;

            foreach (var property in SerializedProperties(type))
            {
                var byConstructor = parameters.Any(p => string.Equals(p.Name, property.Name, StringComparison.OrdinalIgnoreCase));
                if (byConstructor || property.SetMethod is not { IsPublic: true })
                {
                    continue;
                }

                property.SetValue(model, ValueOf(property.PropertyType, $"{owner}.{property.Name}", property));
                PropertiesSet++;
            }

            return model;
        }

        private object ValueOf(Type type, string where, PropertyInfo? property = null)
        {
            var n = ++_next;
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (property?.IsDefined(typeof(JsonExtensionDataAttribute)) == true)
            {
                var extension = (IDictionary)Activator.CreateInstance(type)!;
                extension.Add($"extra_{n}_text", JsonSerializer.SerializeToElement($"extra-{n}", GraphJsonContext.Default.String));
                extension.Add($"extra_{n}_number", JsonSerializer.SerializeToElement(n + 0.5m, GraphJsonContext.Default.Decimal));
                return extension;
            }

            if (type == typeof(string))
            {
                return $"{where}-{n}";
            }

            if (type == typeof(bool))
            {
                return true; // the only value of its own a bool has: the default is false
            }

            if (type == typeof(int) || type == typeof(long) || type == typeof(decimal) || type == typeof(double))
            {
                return Convert.ChangeType(type == typeof(int) || type == typeof(long) ? n : n + 0.25m, type, System.Globalization.CultureInfo.InvariantCulture);
            }

            if (type == typeof(JsonElement))
            {
                return JsonSerializer.SerializeToElement($"element-{n}", GraphJsonContext.Default.String);
            }

            if (type.IsArray)
            {
                var array = Array.CreateInstance(type.GetElementType()!, 2);
                array.SetValue(ValueOf(type.GetElementType()!, $"{where}[0]"), 0);
                array.SetValue(ValueOf(type.GetElementType()!, $"{where}[1]"), 1);
                return array;
            }

            if (type.IsGenericType && type.GetGenericArguments() is [var item] && typeof(IEnumerable).IsAssignableFrom(type))
            {
                var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(item))!;
                list.Add(ValueOf(item, $"{where}[0]"));
                list.Add(ValueOf(item, $"{where}[1]"));
                return list;
            }

            if (IsModel(type))
            {
                return Create(type, where);
            }

            throw new NotSupportedException(
                $"{where} is a {type}, for which this test has no value yet: teach {nameof(WireModelFiller)}.{nameof(ValueOf)} one, "
                + "so that the hand-written writer is checked on it too.");
        }
    }
}
