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
        "content_category", "num_items", "search_string", "status", "net_revenue", "predicted_ltv",
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
        problem = MetaEventNames.Problem(name);
        if (problem is not null)
        {
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

        var user = conversion.PreparedUserData ?? CreateUserData(conversion.UserData);
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

        var custom = conversion.DeclaredCustomData ?? CreateCustomData(conversion.CustomData, out problem);
        if (problem is not null)
        {
            return null;
        }

        if (name == MetaEventNames.Purchase && (custom?.Value is null || custom.Currency is null))
        {
            problem = "Meta requires a value and a currency for Purchase events";
            return null;
        }

        var original = CreateOriginalEventData(conversion.OriginalEventData, out problem);
        if (problem is not null)
        {
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
            OriginalEventData = original,
        };
    }

    /// <summary>The earlier event a follow-up refers to; <see langword="null"/> when none is named.</summary>
    private static GraphOriginalEventData? CreateOriginalEventData(OriginalEventData? original, out string? problem)
    {
        problem = null;
        if (original is null || (original.EventName is null && original.EventTime is null && original.OrderId is null && original.EventId is null))
        {
            return null;
        }

        if (original.EventName is not null && MetaEventNames.Problem(original.EventName) is { } nameProblem)
        {
            problem = "original_event_data: " + nameProblem;
            return null;
        }

        return new GraphOriginalEventData
        {
            EventName = original.EventName,
            EventTime = original.EventTime?.ToUnixTimeSeconds(),
            OrderId = string.IsNullOrEmpty(original.OrderId) ? null : original.OrderId,
            EventId = string.IsNullOrEmpty(original.EventId) ? null : original.EventId,
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

    public static byte[] Serialize(GraphEvent graphEvent) => GraphEventJson.Serialize(graphEvent);

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
            var trimmed = rawCurrency.AsSpan().Trim();
            if (trimmed.Length != 3 || !char.IsAsciiLetter(trimmed[0]) || !char.IsAsciiLetter(trimmed[1]) || !char.IsAsciiLetter(trimmed[2]))
            {
                problem = "the currency must be a three-letter ISO 4217 code such as USD";
                return null;
            }

            currency = CurrencyCode(trimmed);
        }

        if (data.Value is not null && currency is null)
        {
            problem = "a value needs a currency";
            return null;
        }

        // Meta reads both in the event's currency; without one they mean nothing.
        if ((data.NetRevenue is not null || data.PredictedLtv is not null) && currency is null)
        {
            problem = data.NetRevenue is not null ? "a net_revenue needs a currency" : "a predicted_ltv needs a currency";
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

        string[]? contentIds = data.ContentIds.Count > 0 ? [.. data.ContentIds] : contents is null ? null : DistinctIds(contents);
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
            NetRevenue = data.NetRevenue,
            PredictedLtv = data.PredictedLtv,
            Properties = properties,
        };
    }

    // The common codes are returned without allocating a string per event.
    private static string CurrencyCode(ReadOnlySpan<char> letters)
    {
        Span<char> upper = stackalloc char[3];
        System.Text.Ascii.ToUpper(letters, upper, out _);
        return upper switch
        {
            "USD" => "USD",
            "EUR" => "EUR",
            "GBP" => "GBP",
            _ => new string(upper),
        };
    }

    // The contents' product IDs, each once, in order; no LINQ, since most orders have one to three lines.
    private static string[] DistinctIds(GraphContent[] contents)
    {
        var ids = new string[contents.Length];
        var count = 0;
        foreach (var content in contents)
        {
            if (Array.IndexOf(ids, content.Id, 0, count) < 0)
            {
                ids[count++] = content.Id;
            }
        }

        return count == ids.Length ? ids : ids[..count];
    }

    private static GraphUserData CreateUserData(UserData user)
    {
        var hashed = UserDataHasher.NormalizeAndHashAll(user);
        return new GraphUserData
        {
            Email = hashed[(int)UserDataField.Email],
            Phone = hashed[(int)UserDataField.Phone],
            FirstName = hashed[(int)UserDataField.FirstName],
            LastName = hashed[(int)UserDataField.LastName],
            Gender = hashed[(int)UserDataField.Gender],
            DateOfBirth = hashed[(int)UserDataField.DateOfBirth],
            City = hashed[(int)UserDataField.City],
            State = hashed[(int)UserDataField.State],
            Zip = hashed[(int)UserDataField.Zip],
            Country = hashed[(int)UserDataField.Country],
            ExternalId = hashed[(int)UserDataField.ExternalId],
            // Malformed browser identifiers would make Meta refuse the whole batch: the field is dropped, never the event.
            ClickId = MetaCookies.IsValid(user.ClickId) ? user.ClickId : null,
            BrowserId = MetaCookies.IsValid(user.BrowserId) && MetaCookies.HasNumericPayload(user.BrowserId) ? user.BrowserId : null,
            ClientIpAddress = IPAddress.TryParse(user.ClientIpAddress, out _) ? user.ClientIpAddress : null,
            ClientUserAgent = string.IsNullOrEmpty(user.ClientUserAgent) ? null : user.ClientUserAgent,
        };
    }
}
