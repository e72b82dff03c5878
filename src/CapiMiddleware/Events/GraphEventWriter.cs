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
        "delivery_category", "item_number",
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

        var user = conversion.PreparedUserData ?? CreateUserData(conversion.UserData);
        problem = conversion.ActionSource switch
        {
            ActionSource.App => AppProblem(conversion.AppData),
            ActionSource.BusinessMessaging => MessagingProblem(conversion.MessagingChannel, user),
            _ => null,
        };
        if (problem is not null)
        {
            return null;
        }

        string? channel = null;
        if (conversion.MessagingChannel is { } messagingChannel && (channel = messagingChannel.WireName()) is null)
        {
            problem = $"messaging_channel {(int)messagingChannel} is not a channel Meta knows";
            return null;
        }
        if (conversion.ActionSource == ActionSource.Website
            && (string.IsNullOrEmpty(user.ClientUserAgent) || string.IsNullOrEmpty(conversion.EventSourceUrl)))
        {
            problem = "Meta requires a user agent and an event source URL for website events";
            return null;
        }

        if (user.IsEmpty)
        {
            // Offline events carry no browser fields: an import row whose email and phone were invalid has nothing left.
            problem = "Meta requires at least one customer information field (email, phone, external ID, name, address, click ID, browser ID, IP address, user agent, lead ID, or an app, login or messaging ID), and none is left after normalization";
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

        var attribution = CreateAttributionData(conversion.AttributionData, out problem);
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
            AttributionData = attribution,
            MessagingChannel = channel,
            AppData = CreateAppData(conversion.AppData),
            AdvancedMeasurementTable = string.IsNullOrEmpty(conversion.AdvancedMeasurementTable) ? null : conversion.AdvancedMeasurementTable,
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

    /// <summary>What Meta's app events documentation requires and this event lacks: the tracking consent, and extinfo's version and OS version.</summary>
    private static string? AppProblem(AppData? app)
    {
        const string Prefix = "Meta requires for app events ";
        if (app is null)
        {
            return Prefix + "app_data (ConversionEvent.AppData) with advertiser_tracking_enabled and extinfo";
        }

        if (app.AdvertiserTrackingEnabled is null)
        {
            return Prefix + "app_data.advertiser_tracking_enabled (AppData.AdvertiserTrackingEnabled), and it is missing";
        }

        if (app.ExtendedDeviceInfo is not { } device)
        {
            return Prefix + "app_data.extinfo (AppData.ExtendedDeviceInfo), and it is missing";
        }

        if (device.Version is not ("a2" or "i2"))
        {
            return Prefix + "extinfo[0], the version (ExtendedDeviceInfo.Version), to be a2 (Android) or i2 (iOS)";
        }

        return string.IsNullOrWhiteSpace(device.OsVersion)
            ? Prefix + "extinfo[4], the OS version (ExtendedDeviceInfo.OsVersion), and it is missing"
            : null;
    }

    /// <summary>What Meta's business messaging documentation requires and this event lacks: the channel, and the channel's two IDs.</summary>
    private static string? MessagingProblem(MessagingChannel? channel, GraphUserData user)
    {
        const string Prefix = "Meta requires for business_messaging events ";
        (string Name, string? Value) first, second;
        switch (channel)
        {
            case null:
                return Prefix + "messaging_channel (ConversionEvent.MessagingChannel) and the conversation's IDs";
            case MessagingChannel.WhatsApp:
                first = ("whatsapp_business_account_id", user.WhatsAppBusinessAccountId);
                second = ("ctwa_clid", user.WhatsAppClickId);
                break;
            case MessagingChannel.Messenger:
                first = ("page_id", user.PageId);
                second = ("page_scoped_user_id", user.PageScopedUserId);
                break;
            case MessagingChannel.Instagram:
                first = ("instagram_business_account_id", user.InstagramBusinessAccountId);
                second = ("ig_sid", user.InstagramScopedUserId);
                break;
            default:
                return Prefix + $"a messaging_channel Meta knows, and {(int)channel} is none";
        }

        var missing = first.Value is null ? first.Name : second.Value is null ? second.Name : null;
        return missing is null
            ? null
            : Prefix + $"on {channel.Value.WireName()} user_data {first.Name} and {second.Name}, and {missing} is missing or invalid";
    }

    /// <summary>The attribution passback; <see langword="null"/> when nothing is set.</summary>
    private static GraphAttributionData? CreateAttributionData(AttributionData? data, out string? problem)
    {
        problem = null;
        if (data is null || data == new AttributionData())
        {
            return null;
        }

        string? model = null, method = null, reason = null;
        if ((data.AttributionModel is { } m && (model = m.WireName()) is null)
            || (data.AttributionMethod is { } am && (method = am.WireName()) is null)
            || (data.DeclineReason is { } d && (reason = d.WireName()) is null))
        {
            problem = "attribution_data has an attribution model, method or decline reason Meta does not know";
            return null;
        }

        return new GraphAttributionData
        {
            Scope = data.Scope,
            VisitTime = data.VisitTime?.ToUnixTimeSeconds(),
            AdId = data.AdId,
            AdSetId = data.AdSetId,
            CampaignId = data.CampaignId,
            AttributionShare = data.AttributionShare,
            AttributionModel = model,
            AttributionWindow = data.AttributionWindow,
            AttributionValue = data.AttributionValue,
            AttributionSource = data.AttributionSource,
            TouchpointType = data.TouchpointType,
            TouchpointTime = data.TouchpointTime?.ToUnixTimeSeconds(),
            AttributionMethod = method,
            DeclineReason = reason,
            AuditingToken = data.AuditingToken,
            LinkageKey = data.LinkageKey,
            TouchpointId = data.TouchpointId,
            TotalCredit = data.TotalCredit,
            PartnerClientId = data.PartnerClientId,
            AttributionSetting = data.AttributionSetting is { } setting
                ? new GraphAttributionSetting { InactivityWindowHours = setting.InactivityWindowHours, ReattributionWindowHours = setting.ReattributionWindowHours }
                : null,
        };
    }

    private static GraphAppData? CreateAppData(AppData? app) => app is null ? null : new GraphAppData
    {
        AdvertiserTrackingEnabled = app.AdvertiserTrackingEnabled,
        ApplicationTrackingEnabled = app.ApplicationTrackingEnabled,
        ExtendedDeviceInfo = app.ExtendedDeviceInfo?.ToWire(),
        CampaignIds = app.CampaignIds,
        ConsiderViews = app.ConsiderViews,
        IncludeDwellData = app.IncludeDwellData,
        IncludeVideoData = app.IncludeVideoData,
        InstallReferrer = app.InstallReferrer,
        InstallerPackage = app.InstallerPackage,
        ReceiptData = app.ReceiptData,
        UrlSchemes = app.UrlSchemes is { Count: > 0 } schemes ? [.. schemes] : null,
        VendorId = app.VendorId,
        WindowsAttributionId = app.WindowsAttributionId,
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

        string? delivery = null;
        if (data.DeliveryCategory is { } deliveryCategory && (delivery = deliveryCategory.WireName()) is null)
        {
            problem = "the delivery_category is not one Meta knows (in_store, curbside, home_delivery)";
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

                string? itemDelivery = null;
                if (item.DeliveryCategory is { } category && (itemDelivery = category.WireName()) is null)
                {
                    problem = $"the delivery_category of the content {item.Id} is not one Meta knows (in_store, curbside, home_delivery)";
                    return null;
                }

                contents[i] = new GraphContent(item.Id, item.Quantity, item.ItemPrice)
                {
                    Title = item.Title,
                    Description = item.Description,
                    Brand = item.Brand,
                    Category = item.Category,
                    DeliveryCategory = itemDelivery,
                };
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
            ItemNumber = data.ItemNumber,
            DeliveryCategory = delivery,
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
            SubscriptionId = UserDataParts.Identifier(user.SubscriptionId),
            FacebookLoginId = UserDataParts.NumericId(user.FacebookLoginId),
            LeadId = UserDataParts.LeadId(user.LeadId),
            FirstNamePrefix = UserDataParts.FirstFive(user.FirstNamePrefix),
            LastNamePrefix = UserDataParts.FirstFive(user.LastNamePrefix),
            FirstInitial = UserDataParts.Initial(user.FirstInitial),
            BirthDay = UserDataParts.Day(user.BirthDay),
            BirthMonth = UserDataParts.Month(user.BirthMonth),
            BirthYear = UserDataParts.Year(user.BirthYear),
            AdvertisingId = UserDataParts.Identifier(user.AdvertisingId),
            InstallId = UserDataParts.Identifier(user.InstallId),
            AppUserId = UserDataParts.AppUserId(user.AppUserId),
            WhatsAppClickId = UserDataParts.Identifier(user.WhatsAppClickId),
            PageId = UserDataParts.NumericId(user.PageId),
            PageScopedUserId = UserDataParts.NumericId(user.PageScopedUserId),
            InstagramAccountId = UserDataParts.NumericId(user.InstagramAccountId),
            InstagramScopedUserId = UserDataParts.NumericId(user.InstagramScopedUserId),
            WhatsAppBusinessAccountId = UserDataParts.NumericId(user.WhatsAppBusinessAccountId),
            InstagramBusinessAccountId = UserDataParts.NumericId(user.InstagramBusinessAccountId),
        };
    }
}
