using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CapiMiddleware.FakeGraph;

/// <summary>
/// Validates a Conversions API body the way Meta does: one invalid event rejects the whole request.
/// Stricter than Meta where our library's output is known (hashes must be lowercase hex, no nulls).
/// </summary>
internal static partial class EventBatchValidator
{
    internal const int MaxEventsPerRequest = 1000;

    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);
    private static readonly TimeSpan PhysicalStoreMaxAge = TimeSpan.FromDays(62);
    private static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(1);

    private static readonly HashSet<string> ActionSources =
    [
        "website", "app", "email", "phone_call", "chat", "physical_store", "system_generated", "business_messaging", "other",
    ];

    private static readonly string[] HashedFields = ["em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id"];

    public static GraphApiError? Validate(JsonElement? body, DateTimeOffset now)
    {
        if (body is not { ValueKind: JsonValueKind.Object } root)
        {
            return RequestError("(#100) The request body must be a JSON object.");
        }

        if (!root.TryGetProperty("data", out var data))
        {
            return RequestError("(#100) The parameter data is required");
        }

        if (data.ValueKind != JsonValueKind.Array)
        {
            return RequestError("(#100) param data must be an array.");
        }

        var count = data.GetArrayLength();
        if (count == 0)
        {
            return RequestError("(#100) param data must be an array with at least 1 event.");
        }

        if (count > MaxEventsPerRequest)
        {
            return RequestError($"(#100) Too many events: param data must be an array of at most {MaxEventsPerRequest} events, got {count}.");
        }

        if (root.TryGetProperty("test_event_code", out var testCode) && !IsNonEmptyString(testCode))
        {
            return RequestError("(#100) param test_event_code must be a non-empty string.");
        }

        var index = 0;
        foreach (var item in data.EnumerateArray())
        {
            if (ValidateEvent(item, index, now) is { } error)
            {
                return error;
            }

            index++;
        }

        return null;
    }

    private static GraphApiError? ValidateEvent(JsonElement item, int index, DateTimeOffset now)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return Invalid(null, "Invalid Event", index, "the event must be a JSON object.");
        }

        if (!item.TryGetProperty("event_name", out var name) || !IsNonEmptyString(name))
        {
            return Invalid(GraphErrorCodes.InvalidEventNameSubcode, "Missing Event Name", index, "event_name is required and must be a non-empty string.");
        }

        if (!item.TryGetProperty("action_source", out var source) || source.ValueKind != JsonValueKind.String
            || !ActionSources.Contains(source.GetString()!))
        {
            return Invalid(GraphErrorCodes.InvalidActionSourceSubcode, "Invalid Action Source", index,
                $"action_source is required and must be one of {string.Join(", ", ActionSources)}.");
        }

        var actionSource = source.GetString()!;
        if (ValidateEventTime(item, index, actionSource, now) is { } timeError)
        {
            return timeError;
        }

        if (item.TryGetProperty("event_id", out var eventId) && !IsNonEmptyString(eventId))
        {
            return Invalid(GraphErrorCodes.InvalidEventIdSubcode, "Invalid Event ID", index, "event_id, when present, must be a non-empty string.");
        }

        if (item.TryGetProperty("event_source_url", out var url) && !IsNonEmptyString(url))
        {
            return Invalid(null, "Invalid Event Source URL", index, "event_source_url, when present, must be a non-empty string.");
        }

        if (!item.TryGetProperty("user_data", out var userData) || userData.ValueKind != JsonValueKind.Object)
        {
            return Invalid(GraphErrorCodes.InvalidUserDataSubcode, "Missing User Data", index, "user_data is required and must be an object.");
        }

        if (ValidateUserData(userData, index) is { } userError)
        {
            return userError;
        }

        if (ValidateDataProcessingOptions(item, index) is { } processingError)
        {
            return processingError;
        }

        if (!userData.EnumerateObject().Any())
        {
            return Invalid(GraphErrorCodes.InvalidUserDataSubcode, "Missing Customer Information", index,
                "user_data must contain at least one customer information parameter.");
        }

        if (actionSource == "app" && !item.TryGetProperty("app_data", out _))
        {
            return Invalid(null, "Missing App Data", index, "app events require app_data.");
        }

        if (actionSource == "business_messaging" && !item.TryGetProperty("messaging_channel", out _))
        {
            return Invalid(null, "Missing Messaging Channel", index, "business_messaging events require messaging_channel.");
        }

        if (actionSource == "website")
        {
            var missing = new List<string>();
            if (!userData.TryGetProperty("client_user_agent", out _))
            {
                missing.Add("user_data.client_user_agent");
            }

            if (!item.TryGetProperty("event_source_url", out _))
            {
                missing.Add("event_source_url");
            }

            if (missing.Count > 0)
            {
                return Invalid(GraphErrorCodes.MissingWebsiteFieldsSubcode, "Missing Required Website Parameters", index,
                    $"website events require {string.Join(" and ", missing)}.");
            }
        }

        if (item.TryGetProperty("custom_data", out var customData))
        {
            return ValidateCustomData(customData, name.GetString()!, index);
        }

        return null;
    }

    private static GraphApiError? ValidateEventTime(JsonElement item, int index, string actionSource, DateTimeOffset now)
    {
        if (!item.TryGetProperty("event_time", out var time) || time.ValueKind != JsonValueKind.Number
            || !time.TryGetInt64(out var seconds))
        {
            return Invalid(GraphErrorCodes.EventTimeOutOfRangeSubcode, "Invalid Event Time", index,
                "event_time is required and must be an integer number of Unix seconds.");
        }

        var nowSeconds = now.ToUnixTimeSeconds();
        var maxAge = actionSource == "physical_store" ? PhysicalStoreMaxAge : MaxAge;
        if (seconds < nowSeconds - (long)maxAge.TotalSeconds)
        {
            return Invalid(GraphErrorCodes.EventTimeOutOfRangeSubcode, "Event Timestamp Too Old", index,
                $"event_time {seconds} is more than {maxAge.TotalDays} days before the server time {nowSeconds}.");
        }

        if (seconds > nowSeconds + (long)MaxFutureSkew.TotalSeconds)
        {
            return Invalid(GraphErrorCodes.EventTimeOutOfRangeSubcode, "Event Timestamp In The Future", index,
                $"event_time {seconds} is in the future (server time {nowSeconds}).");
        }

        return null;
    }

    private static GraphApiError? ValidateUserData(JsonElement userData, int index)
    {
        foreach (var field in HashedFields)
        {
            if (!userData.TryGetProperty(field, out var value))
            {
                continue;
            }

            if (value.ValueKind == JsonValueKind.String)
            {
                if (!IsSha256Hex(value.GetString()!))
                {
                    return NotHashed(index, $"user_data.{field}");
                }
            }
            else if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0)
            {
                var position = 0;
                foreach (var element in value.EnumerateArray())
                {
                    if (element.ValueKind != JsonValueKind.String || !IsSha256Hex(element.GetString()!))
                    {
                        return NotHashed(index, $"user_data.{field}[{position}]");
                    }

                    position++;
                }
            }
            else
            {
                return Invalid(GraphErrorCodes.InvalidUserDataSubcode, "Invalid User Data", index,
                    $"user_data.{field} must be a hashed string or a non-empty array of hashed strings, not {Describe(value)}.");
            }
        }

        if (userData.TryGetProperty("fbc", out var fbc)
            && (fbc.ValueKind != JsonValueKind.String || !FbcPattern().IsMatch(fbc.GetString()!)))
        {
            return Invalid(GraphErrorCodes.InvalidFbcSubcode, "Invalid Click ID", index,
                $"user_data.fbc is incorrectly formatted ({Describe(fbc)}); expected fb.<subdomain index>.<creation time>.<fbclid>[.<appendix>].");
        }

        if (userData.TryGetProperty("fbp", out var fbp)
            && (fbp.ValueKind != JsonValueKind.String || !FbpPattern().IsMatch(fbp.GetString()!)))
        {
            return Invalid(GraphErrorCodes.InvalidFbpSubcode, "Invalid Browser ID", index,
                $"user_data.fbp is incorrectly formatted ({Describe(fbp)}); expected fb.<subdomain index>.<creation time>.<random number>[.<appendix>].");
        }

        if (userData.TryGetProperty("client_ip_address", out var ip)
            && (ip.ValueKind != JsonValueKind.String || !IsIpAddress(ip.GetString()!)))
        {
            return Invalid(GraphErrorCodes.InvalidIpAddressSubcode, "Invalid IP Address", index,
                $"user_data.client_ip_address is not a valid IPv4 or IPv6 address ({Describe(ip)}).");
        }

        if (userData.TryGetProperty("client_user_agent", out var agent) && !IsNonEmptyString(agent))
        {
            return Invalid(GraphErrorCodes.InvalidUserDataSubcode, "Invalid User Agent", index,
                $"user_data.client_user_agent must be a non-empty string, not {Describe(agent)}.");
        }

        return null;
    }

    /// <summary>
    /// Limited Data Use: <c>data_processing_options</c> is an array of "LDU" (or empty); with "LDU", Meta needs the
    /// country (1 = US, 0 = geolocate) and the state (0 = geolocate), as integers, and a state only with the US.
    /// </summary>
    private static GraphApiError? ValidateDataProcessingOptions(JsonElement item, int index)
    {
        var hasCountry = item.TryGetProperty("data_processing_options_country", out var country);
        var hasState = item.TryGetProperty("data_processing_options_state", out var state);
        if (!item.TryGetProperty("data_processing_options", out var options))
        {
            return hasCountry || hasState
                ? InvalidProcessing(index, "data_processing_options_country and _state need data_processing_options.")
                : null;
        }

        if (options.ValueKind != JsonValueKind.Array
            || options.EnumerateArray().Any(o => o.ValueKind != JsonValueKind.String || o.GetString() != "LDU"))
        {
            return InvalidProcessing(index, $"data_processing_options must be [\"LDU\"] or [], not {options.GetRawText()}.");
        }

        if (options.GetArrayLength() == 0)
        {
            return null;
        }

        if (!hasCountry || !hasState || country.ValueKind != JsonValueKind.Number || state.ValueKind != JsonValueKind.Number
            || !country.TryGetInt32(out var countryCode) || !state.TryGetInt32(out var stateCode))
        {
            return InvalidProcessing(index, "with LDU, data_processing_options_country and data_processing_options_state must be integers (0 and 0 to geolocate).");
        }

        return countryCode is not (0 or 1) || stateCode < 0 || (stateCode != 0 && countryCode != 1)
            ? InvalidProcessing(index, $"country {countryCode} and state {stateCode} are not a location Meta knows (country 1 = US, 0 = geolocate).")
            : null;
    }

    private static GraphApiError InvalidProcessing(int index, string detail) =>
        Invalid(null, "Invalid Data Processing Options", index, detail);

    private static GraphApiError? ValidateCustomData(JsonElement customData, string eventName, int index)
    {
        if (customData.ValueKind != JsonValueKind.Object)
        {
            return InvalidCustomData(index, $"custom_data must be an object, not {Describe(customData)}.");
        }

        var hasValue = customData.TryGetProperty("value", out var value);
        if (hasValue && value.ValueKind != JsonValueKind.Number)
        {
            return InvalidCustomData(index, $"custom_data.value must be a number, not {Describe(value)}.");
        }

        if (customData.TryGetProperty("currency", out var currency))
        {
            if (currency.ValueKind != JsonValueKind.String || !CurrencyPattern().IsMatch(currency.GetString()!))
            {
                return InvalidCustomData(index, $"custom_data.currency must be a 3-letter ISO 4217 code, not {Describe(currency)}.");
            }
        }
        else if (hasValue && eventName == "Purchase")
        {
            return InvalidCustomData(index, "custom_data.currency is required for a Purchase event with a value.");
        }

        if (customData.TryGetProperty("contents", out var contents))
        {
            if (contents.ValueKind != JsonValueKind.Array)
            {
                return InvalidCustomData(index, $"custom_data.contents must be an array, not {Describe(contents)}.");
            }

            var position = 0;
            foreach (var content in contents.EnumerateArray())
            {
                if (content.ValueKind != JsonValueKind.Object
                    || !content.TryGetProperty("id", out var id) || !IsNonEmptyString(id)
                    || !content.TryGetProperty("quantity", out var quantity) || quantity.ValueKind != JsonValueKind.Number
                    || !quantity.TryGetInt64(out _))
                {
                    return InvalidCustomData(index, $"custom_data.contents[{position}] must be an object with a string id and an integer quantity.");
                }

                if (content.TryGetProperty("item_price", out var price) && price.ValueKind != JsonValueKind.Number)
                {
                    return InvalidCustomData(index, $"custom_data.contents[{position}].item_price must be a number.");
                }

                position++;
            }
        }

        return null;
    }

    internal static bool IsSha256Hex(string value)
    {
        // 64 hex is SHA-256; 32 hex is an MD5 that Meta's Parameter Builder passes through unchanged, as we do.
        if (value.Length is not (64 or 32))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is not (>= '0' and <= '9') and not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsIpAddress(string value)
    {
        // IPAddress.TryParse also takes "1" or "1.2" as IPv4; Meta wants a full dotted quad or an IPv6 address.
        if (!value.Contains(':') && !DottedQuadPattern().IsMatch(value))
        {
            return false;
        }

        return IPAddress.TryParse(value, out _);
    }

    private static bool IsNonEmptyString(JsonElement element) =>
        element.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(element.GetString());

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"\"{Truncate(element.GetString()!)}\"",
        JsonValueKind.Null => "null",
        _ => element.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "...";

    private static GraphApiError RequestError(string message) =>
        new(400, GraphErrorCodes.InvalidParameter, null, message, UserTitle: "Invalid Request", UserMessage: message);

    private static GraphApiError NotHashed(int index, string field) =>
        Invalid(GraphErrorCodes.NotHashedSubcode, "Parameter Not Hashed", index,
            $"{field} must be hashed with SHA-256 (64 lowercase hex characters).");

    private static GraphApiError InvalidCustomData(int index, string detail) =>
        Invalid(GraphErrorCodes.InvalidCustomDataSubcode, "Invalid Custom Data", index, detail);

    private static GraphApiError Invalid(int? subcode, string title, int index, string detail) =>
        new(400, GraphErrorCodes.InvalidParameter, subcode, "Invalid parameter", false, title, $"Event {index} (data[{index}]): {detail}");

    [GeneratedRegex(@"^fb\.[0-9]+\.[0-9]+\.[^.\s]+(\.[^.\s]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FbcPattern();

    [GeneratedRegex(@"^fb\.[0-9]+\.[0-9]+\.[0-9]+(\.[^.\s]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FbpPattern();

    [GeneratedRegex("^[A-Za-z]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex CurrencyPattern();

    [GeneratedRegex(@"^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$", RegexOptions.CultureInvariant)]
    private static partial Regex DottedQuadPattern();
}
