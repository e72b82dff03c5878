using System.Net;
using System.Text.Json;
using CapiMiddleware.Cookies;
using CapiMiddleware.Hashing;

namespace CapiMiddleware.Events;

/// <summary>
/// Turns a <see cref="ConversionEvent"/> into the Conversions API's wire event: the one place where personal fields are
/// normalized and hashed, and where events Meta would reject are caught before they can sink a whole batch.
/// </summary>
internal static class GraphEventWriter
{
    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(1);

    // Keys of custom_data that have typed properties; a custom property of the same name would write the key twice.
    private static readonly HashSet<string> ReservedKeys = new(StringComparer.Ordinal)
    {
        "value", "currency", "order_id", "content_ids", "contents", "content_type", "content_name",
        "content_category", "num_items", "search_string", "status",
    };

    private static readonly string[] LimitedDataUse = ["LDU"];

    /// <summary>
    /// Builds the wire event, or returns <see langword="null"/> with the reason Meta would reject it. The data
    /// processing options are the event's own, else <paramref name="defaultProcessing"/> (the global Limited Data Use).
    /// </summary>
    public static GraphEvent? TryCreate(ConversionEvent conversion, string eventId, DateTimeOffset now, out string? problem, DataProcessingOptions? defaultProcessing = null)
    {
        problem = null;
        var name = conversion.EventName;
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
        {
            problem = "the event name must be 1 to 100 characters";
            return null;
        }

        var time = conversion.EventTime ?? now;
        var maxAge = EventAge.MaxAgeOf(conversion.ActionSource.WireName());
        if (now - time > maxAge)
        {
            problem = $"the event is older than Meta accepts ({maxAge.TotalDays:0} days)";
            return null;
        }

        if (time - now > MaxClockSkew)
        {
            problem = "the event time is in the future";
            return null;
        }

        problem = UnsupportedSource(conversion.ActionSource);
        if (problem is not null)
        {
            return null;
        }

        var user = CreateUserData(conversion.UserData);
        if (conversion.ActionSource == ActionSource.Website
            && (string.IsNullOrEmpty(user.ClientUserAgent) || string.IsNullOrEmpty(conversion.EventSourceUrl)))
        {
            problem = "Meta requires a user agent and an event source URL for website events";
            return null;
        }

        if (user.IsEmpty)
        {
            // Offline events carry no browser fields: an import row whose email and phone were invalid has nothing left.
            problem = "Meta requires at least one customer information field (email, phone, external ID, name, address, click ID, browser ID, IP address or user agent), and none is left after normalization";
            return null;
        }

        var custom = CreateCustomData(conversion.CustomData, out problem);
        if (problem is not null)
        {
            return null;
        }

        if (name == MetaEventNames.Purchase && (custom?.Value is null || custom.Currency is null))
        {
            problem = "Meta requires a value and a currency for Purchase events";
            return null;
        }

        var processing = conversion.DataProcessingOptions ?? defaultProcessing;
        return new GraphEvent
        {
            EventName = name,
            EventTime = time.ToUnixTimeSeconds(),
            EventId = eventId,
            ActionSource = conversion.ActionSource.WireName(),
            EventSourceUrl = conversion.EventSourceUrl,
            ReferrerUrl = conversion.ReferrerUrl,
            OptOut = conversion.OptOut ? true : null,
            DataProcessingOptions = processing is null ? null : processing.IsLimitedDataUse ? LimitedDataUse : [],
            DataProcessingOptionsCountry = processing is { IsLimitedDataUse: true } ? processing.Country : null,
            DataProcessingOptionsState = processing is { IsLimitedDataUse: true } ? processing.State : null,
            UserData = user,
            CustomData = custom,
        };
    }

    /// <summary>
    /// The action sources whose required fields the event model cannot carry yet; Meta would refuse their events, and
    /// with them the whole batch.
    /// </summary>
    private static string? UnsupportedSource(ActionSource source) => source switch
    {
        ActionSource.App =>
            "Meta requires app_data (tracking consent and device details) for app events, which this library does not send; report in-app events from the app or Meta's SDK",
        ActionSource.BusinessMessaging =>
            "Meta requires messaging_channel and the conversation's IDs for business_messaging events, which this library does not send",
        _ => null,
    };

    public static byte[] Serialize(GraphEvent graphEvent) =>
        JsonSerializer.SerializeToUtf8Bytes(graphEvent, GraphJsonContext.Default.GraphEvent);

    /// <summary>The custom data, shared by the server event and the Pixel; <see langword="null"/> when there is none.</summary>
    public static GraphCustomData? CreateCustomData(CustomData data, out string? problem)
    {
        problem = null;
        if (data.IsEmpty)
        {
            return null;
        }

        string? currency = null;
        if (data.Currency is { } rawCurrency)
        {
            var trimmed = rawCurrency.Trim();
            if (trimmed.Length != 3 || !trimmed.All(char.IsAsciiLetter))
            {
                problem = "the currency must be a three-letter ISO 4217 code such as USD";
                return null;
            }

            currency = trimmed.ToUpperInvariant();
        }

        if (data.Value is not null && currency is null)
        {
            problem = "a value needs a currency";
            return null;
        }

        GraphContent[]? contents = null;
        if (data.Contents.Count > 0)
        {
            contents = new GraphContent[data.Contents.Count];
            for (var i = 0; i < contents.Length; i++)
            {
                var item = data.Contents[i];
                if (string.IsNullOrEmpty(item?.Id))
                {
                    problem = "every content needs a product ID";
                    return null;
                }

                contents[i] = new GraphContent(item.Id, item.Quantity, item.ItemPrice);
            }
        }

        string[]? contentIds = data.ContentIds.Count > 0 ? [.. data.ContentIds] : contents?.Select(c => c.Id).Distinct().ToArray();
        int? numItems = data.NumItems ?? contents?.Sum(c => c.Quantity);

        Dictionary<string, JsonElement>? properties = null;
        foreach (var (key, value) in data.Properties)
        {
            if (string.IsNullOrEmpty(key) || ReservedKeys.Contains(key))
            {
                continue;
            }

            (properties ??= new(StringComparer.Ordinal))[key] = GraphJsonContext.ToElement(value);
        }

        return new GraphCustomData
        {
            Value = data.Value,
            Currency = currency,
            OrderId = data.OrderId,
            ContentIds = contentIds,
            Contents = contents,
            ContentType = data.ContentType ?? (contentIds is not null ? "product" : null),
            ContentName = data.ContentName,
            ContentCategory = data.ContentCategory,
            NumItems = numItems,
            SearchString = data.SearchString,
            Status = data.Status,
            Properties = properties,
        };
    }

    private static GraphUserData CreateUserData(UserData user) => new()
    {
        Email = Hash(UserDataField.Email, user),
        Phone = Hash(UserDataField.Phone, user),
        FirstName = Hash(UserDataField.FirstName, user),
        LastName = Hash(UserDataField.LastName, user),
        Gender = Hash(UserDataField.Gender, user),
        DateOfBirth = Hash(UserDataField.DateOfBirth, user),
        City = Hash(UserDataField.City, user),
        State = Hash(UserDataField.State, user),
        Zip = Hash(UserDataField.Zip, user),
        Country = Hash(UserDataField.Country, user),
        ExternalId = Hash(UserDataField.ExternalId, user),
        // Malformed browser identifiers would make Meta refuse the whole batch: the field is dropped, never the event.
        ClickId = MetaCookies.IsValid(user.ClickId) ? user.ClickId : null,
        BrowserId = MetaCookies.IsValid(user.BrowserId) && MetaCookies.HasNumericPayload(user.BrowserId) ? user.BrowserId : null,
        ClientIpAddress = IPAddress.TryParse(user.ClientIpAddress, out _) ? user.ClientIpAddress : null,
        ClientUserAgent = string.IsNullOrEmpty(user.ClientUserAgent) ? null : user.ClientUserAgent,
    };

    /// <summary>
    /// Each value of the field hashed on its own, in order: invalid ones dropped, the same hash sent once; null when
    /// nothing is left.
    /// </summary>
    private static string[]? Hash(UserDataField field, UserData user)
    {
        var first = UserDataHasher.NormalizeAndHash(field, user.Get(field));
        var more = user.More(field);
        if (more is null or { Count: 0 })
        {
            return first is null ? null : [first];
        }

        var hashes = new List<string>(more.Count + 1);
        if (first is not null)
        {
            hashes.Add(first);
        }

        foreach (var extra in more)
        {
            if (UserDataHasher.NormalizeAndHash(field, extra) is { } hash && !hashes.Contains(hash))
            {
                hashes.Add(hash);
            }
        }

        return hashes.Count == 0 ? null : [.. hashes];
    }
}
