using System.Text.Json;
using System.Text.Json.Nodes;
using CapiMiddleware.Events;

namespace CapiMiddleware.Tests.Reference;

/// <summary>
/// The same events built with this library and with Meta's Node SDK 24.0.1 (<see cref="NodeSdk"/>), one for each kind
/// of action source, give the same JSON, key order and number formatting aside (numbers are compared as values). Each
/// deliberate difference is handled by a method of its own, named here, and nothing else differs:
/// <list type="bullet">
/// <item><see cref="NodeSendsItsOwnObjects"/>: the SDK's <c>ServerEvent.normalize()</c> puts the original event and
/// attribution objects themselves into the payload, which stringify with the SDK's private keys (<c>_event_name</c>);
/// this library sends what their own <c>normalize()</c> returns.</item>
/// <item><see cref="ExtinfoAsMetaDocumentsIt"/>: the SDK writes <c>extinfo</c> as an object keyed "0".."15" with numbers,
/// leaving unknown positions out; this library sends the array of 16 strings with <c>""</c> placeholders that Meta's
/// app events documentation asks for.</item>
/// <item><see cref="NotInTheNodeSdk"/>: keys the Node SDK cannot send: the business-messaging IDs of Meta's documentation,
/// <c>app_data.vendor_id</c> (documentation only), and the Python SDK 25.0.2's newer attribution keys.</item>
/// </list>
/// The normalization differences of the personal fields (docs/differences.md) are kept out by inputs both normalize
/// alike, and <c>external_id</c> (raw in the SDKs, hashed here) by a value that is already a SHA-256 digest, passed
/// through by both.
/// </summary>
public sealed class NodeSdkDifferentialTests(NodeSdk sdk) : IClassFixture<NodeSdk>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly long NowSeconds = Now.ToUnixTimeSeconds();

    // printf %s customer-17 | sha256sum
    private const string ExternalIdDigest = "db2f1aab1da8bb83ccf19147343fbf6993905ccc53bc4a9005611ed1c1df0650";

    private static readonly string[] NotInTheNodeSdk =
    [
        "user_data.page_scoped_user_id", "user_data.ig_account_id", "user_data.ig_sid",
        "user_data.whatsapp_business_account_id", "user_data.instagram_business_account_id",
        "app_data.vendor_id",
        "attribution_data.touchpoint_id", "attribution_data.total_credit", "attribution_data.partner_client_id",
    ];

    [Fact]
    public async Task A_website_purchase_with_every_user_custom_data_and_contents_field()
    {
        var user = new UserData
        {
            Email = "Buyer@Example.com", Phone = "+1 (650) 555-1234", FirstName = "Ann", LastName = "Smith", Gender = "f",
            DateOfBirth = "19900228", City = "Menlo Park", State = "CA", Zip = "94025", Country = "US",
            ExternalId = ExternalIdDigest, ClientIpAddress = "2001:db8::1", ClientUserAgent = "Mozilla/5.0 (X11)",
            ClickId = "fb.1.1700000000000.AbC", BrowserId = "fb.1.1700000000000.123",
            FirstNamePrefix = "Johnathan", LastNamePrefix = "Smithson", FirstInitial = "Ann", BirthDay = "5", BirthMonth = "2",
            BirthYear = "1990", SubscriptionId = "sub-1", FacebookLoginId = "100000000000001",
        };
        var data = new CustomData
        {
            Value = 142.52m, NetRevenue = 40.25m, PredictedLtv = 900m, Currency = "usd", ContentName = "Mugs",
            ContentCategory = "Kitchen", ContentType = "product", OrderId = "o-1", NumItems = 3, SearchString = "mug",
            Status = "paid", ItemNumber = "1", DeliveryCategory = DeliveryCategory.HomeDelivery,
        };
        data.ContentIds.Add("sku-1");
        data.ContentIds.Add("sku-2");
        data.Contents.Add(new Content("sku-1", 2, 50.5m) { Title = "Mug", Description = "A big mug", Brand = "Acme", Category = "Cups", DeliveryCategory = DeliveryCategory.HomeDelivery });
        data.Contents.Add(new Content("sku-2", 1, 41.52m) { DeliveryCategory = DeliveryCategory.InStore });
        var ours = new ConversionEvent("Purchase")
        {
            EventTime = Now, EventSourceUrl = "https://shop.example.com/thanks", OptOut = true, UserData = user, CustomData = data,
        };

        await AssertSameAsync(ours, new NodeSdkSpec
        {
            Event = Event("Purchase", "website", new() { ["setEventSourceUrl"] = "https://shop.example.com/thanks", ["setOptOut"] = true }),
            User = new()
            {
                ["setEmail"] = "Buyer@Example.com", ["setPhone"] = "+1 (650) 555-1234", ["setFirstName"] = "Ann",
                ["setLastName"] = "Smith", ["setGender"] = "f", ["setDateOfBirth"] = "19900228", ["setCity"] = "Menlo Park",
                ["setState"] = "CA", ["setZip"] = "94025", ["setCountry"] = "US", ["setExternalId"] = ExternalIdDigest,
                ["setClientIpAddress"] = "2001:db8::1", ["setClientUserAgent"] = "Mozilla/5.0 (X11)",
                ["setFbc"] = "fb.1.1700000000000.AbC", ["setFbp"] = "fb.1.1700000000000.123",
                ["setF5First"] = "Johnathan", ["setF5Last"] = "Smithson", ["setFi"] = "Ann", ["setDobd"] = "5", ["setDobm"] = "2",
                ["setDoby"] = "1990", ["setSubscriptionId"] = "sub-1", ["setFbLoginId"] = "100000000000001",
            },
            Custom = new()
            {
                ["setValue"] = 142.52, ["setNetRevenue"] = 40.25, ["setPredictedLtv"] = 900, ["setCurrency"] = "usd",
                ["setContentName"] = "Mugs", ["setContentCategory"] = "Kitchen", ["setContentType"] = "product",
                ["setOrderId"] = "o-1", ["setNumItems"] = 3, ["setSearchString"] = "mug", ["setStatus"] = "paid",
                ["setItemNumber"] = "1", ["setDeliveryCategory"] = "home_delivery", ["setContentIds"] = new[] { "sku-1", "sku-2" },
            },
            Contents =
            [
                new() { ["setId"] = "sku-1", ["setQuantity"] = 2, ["setItemPrice"] = 50.5, ["setTitle"] = "Mug", ["setDescription"] = "A big mug", ["setBrand"] = "Acme", ["setCategory"] = "Cups", ["setDeliveryCategory"] = "home_delivery" },
                new() { ["setId"] = "sku-2", ["setQuantity"] = 1, ["setItemPrice"] = 41.52, ["setDeliveryCategory"] = "in_store" },
            ],
        });
    }

    [Fact]
    public async Task A_CRM_stage_of_a_Lead_Ads_lead()
    {
        var ours = new ConversionEvent("QualifiedLead")
        {
            EventTime = Now,
            ActionSource = ActionSource.SystemGenerated,
            UserData = new UserData { LeadId = "123456789012345", Email = "lead@example.com" },
            CustomData = { Properties = { ["lead_event_source"] = "HubSpot", ["event_source"] = "crm" } },
        };

        await AssertSameAsync(ours, new NodeSdkSpec
        {
            Event = Event("QualifiedLead", "system_generated"),
            User = new() { ["setLeadId"] = "123456789012345", ["setEmail"] = "lead@example.com" },
            Custom = new() { ["setCustomProperties"] = new Dictionary<string, string> { ["lead_event_source"] = "HubSpot", ["event_source"] = "crm" } },
        });
    }

    [Fact]
    public async Task An_app_event_with_every_app_data_field_and_extinfo()
    {
        var ours = new ConversionEvent("Purchase")
        {
            EventTime = Now,
            ActionSource = ActionSource.App,
            UserData = new UserData { AdvertisingId = "38400000-8cf0-11bd-b23e-10b96e40000d", InstallId = "12345340-1234-3456-1234-123456789012", AppUserId = "User-42" },
            CustomData = new CustomData { Value = 9.99m, Currency = "EUR" },
            AppData = new AppData
            {
                AdvertiserTrackingEnabled = true, ApplicationTrackingEnabled = false, CampaignIds = "abcd1234", ConsiderViews = true,
                IncludeDwellData = false, IncludeVideoData = true, InstallReferrer = "utm_source=meta", InstallerPackage = "com.android.vending",
                ReceiptData = "receipt", UrlSchemes = ["shop", "fb123"], WindowsAttributionId = "win-1", VendorId = "vendor-1",
                ExtendedDeviceInfo = new ExtendedDeviceInfo
                {
                    Version = "a2", PackageName = "com.some.app", ShortVersion = "771", LongVersion = "Version 7.7.1", OsVersion = "10.1.1",
                    DeviceModel = "OnePlus6", Locale = "en_US", TimeZoneAbbreviation = "GMT-1", ScreenWidth = 1920, ScreenHeight = 1080,
                    ScreenDensity = "2.00", CpuCores = 2, TotalDiskSpaceGb = 128, DeviceTimeZone = "USA/New York",
                },
            },
        };

        await AssertSameAsync(ours, new NodeSdkSpec
        {
            Event = Event("Purchase", "app"),
            User = new() { ["setMadid"] = "38400000-8cf0-11bd-b23e-10b96e40000d", ["setAnonId"] = "12345340-1234-3456-1234-123456789012", ["setAppUserId"] = "User-42" },
            Custom = new() { ["setValue"] = 9.99, ["setCurrency"] = "EUR" },
            App = new()
            {
                ["setAdvertiserTrackingEnabled"] = true, ["setApplicationTrackingEnabled"] = false, ["setCampaignIds"] = "abcd1234",
                ["setConsiderViews"] = true, ["setIncludeDwellData"] = false, ["setIncludeVideoData"] = true,
                ["setInstallReferrer"] = "utm_source=meta", ["setInstallerPackage"] = "com.android.vending", ["setReceiptData"] = "receipt",
                ["setUrlSchemes"] = new[] { "shop", "fb123" }, ["setWindowsAttributionId"] = "win-1",
            },
            ExtInfo = new()
            {
                ["setExtInfoVersion"] = "a2", ["setAppPackageName"] = "com.some.app", ["setShortVersion"] = "771",
                ["setLongVersion"] = "Version 7.7.1", ["setOsVersion"] = "10.1.1", ["setDeviceModelName"] = "OnePlus6",
                ["setLocale"] = "en_US", ["setTimezoneAbbreviation"] = "GMT-1", ["setScreenWidth"] = 1920, ["setScreenHeight"] = 1080,
                ["setScreenDensity"] = "2.00", ["setCpuCoreCount"] = 2, ["setTotalDiskSpaceGb"] = 128, ["setDeviceTimeZone"] = "USA/New York",
            },
        });
    }

    [Theory]
    [InlineData(MessagingChannel.WhatsApp)]
    [InlineData(MessagingChannel.Messenger)]
    public async Task A_business_messaging_event(MessagingChannel channel)
    {
        var user = channel == MessagingChannel.WhatsApp
            ? new UserData { WhatsAppBusinessAccountId = "102030405060708", WhatsAppClickId = "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a" }
            : new UserData { PageId = "102030405060708", PageScopedUserId = "6655443322" };
        var ours = new ConversionEvent("OrderCreated") { EventTime = Now, ActionSource = ActionSource.BusinessMessaging, MessagingChannel = channel, UserData = user };

        await AssertSameAsync(ours, new NodeSdkSpec
        {
            Event = Event("OrderCreated", "business_messaging", new() { ["setMessagingChannel"] = channel == MessagingChannel.WhatsApp ? "whatsapp" : "messenger" }),
            User = channel == MessagingChannel.WhatsApp
                ? new() { ["setCtwaClid"] = user.WhatsAppClickId }
                : new() { ["setPageId"] = "102030405060708" },
        });
    }

    [Fact]
    public async Task A_follow_up_with_original_event_data_and_attribution_data()
    {
        var purchase = Now.AddHours(-20);
        var touch = Now.AddDays(-2);
        var ours = new ConversionEvent("Purchase")
        {
            EventTime = Now,
            ActionSource = ActionSource.SystemGenerated,
            UserData = new UserData { ExternalId = ExternalIdDigest },
            CustomData = new CustomData { Value = 100m, Currency = "USD", NetRevenue = 31.5m },
            OriginalEventData = new OriginalEventData { EventName = "Purchase", EventTime = purchase, OrderId = "o-1", EventId = "e-1" },
            AttributionData = new AttributionData
            {
                Scope = "click", VisitTime = touch, AdId = "120200000000000001", AdSetId = "120200000000000002", CampaignId = "120200000000000003",
                AttributionShare = 0.3m, AttributionModel = AttributionModel.LastClick, AttributionWindow = 7, AttributionValue = 30.25m,
                AttributionSource = "amm", TouchpointType = "click", TouchpointTime = touch, AttributionMethod = AttributionMethod.Deeplink,
                DeclineReason = DeclineReason.OutOfLookbackWindow, AuditingToken = "token-1", LinkageKey = "link-1",
                TouchpointId = "tp-1", TotalCredit = 1m, PartnerClientId = "partner-1",
                AttributionSetting = new AttributionSetting { InactivityWindowHours = 0, ReattributionWindowHours = 24 },
            },
        };

        await AssertSameAsync(ours, new NodeSdkSpec
        {
            Event = Event("Purchase", "system_generated"),
            User = new() { ["setExternalId"] = ExternalIdDigest },
            Custom = new() { ["setValue"] = 100, ["setCurrency"] = "USD", ["setNetRevenue"] = 31.5 },
            Original = new() { ["setEventName"] = "Purchase", ["setEventTime"] = purchase.ToUnixTimeSeconds(), ["setOrderID"] = "o-1", ["setEventID"] = "e-1" },
            Attribution = new()
            {
                ["setScope"] = "click", ["setVisitTime"] = touch.ToUnixTimeSeconds(), ["setAdId"] = "120200000000000001",
                ["setAdsetId"] = "120200000000000002", ["setCampaignId"] = "120200000000000003", ["setAttributionShare"] = 0.3,
                ["setAttributionModel"] = "last_click", ["setAttrWindow"] = 7, ["setAttributionValue"] = 30.25,
                ["setAttributionSource"] = "amm", ["setTouchpointType"] = "click", ["setTouchpointTs"] = touch.ToUnixTimeSeconds(),
                ["setAttributionMethod"] = "deeplink", ["setDeclineReason"] = "out_of_lookback_window",
                ["setAuditingToken"] = "token-1", ["setLinkageKey"] = "link-1",
            },
            AttributionSetting = new() { ["setInactivityWindowHours"] = 0, ["setReattributionWindowHours"] = 24 },
        });
    }

    private static Dictionary<string, object?> Event(string name, string actionSource, Dictionary<string, object?>? more = null)
    {
        var setters = new Dictionary<string, object?>
        {
            ["setEventName"] = name, ["setEventTime"] = NowSeconds, ["setEventId"] = "event-1", ["setActionSource"] = actionSource,
        };
        foreach (var (setter, value) in more ?? [])
        {
            setters[setter] = value;
        }

        return setters;
    }

    private async Task AssertSameAsync(ConversionEvent conversion, NodeSdkSpec spec)
    {
        var graphEvent = GraphEventWriter.TryCreate(conversion, "event-1", Now, out var problem);
        Assert.True(graphEvent is not null, problem);
        var ours = JsonNode.Parse(GraphEventWriter.Serialize(graphEvent))!.AsObject();
        var node = await sdk.BuildAsync(spec);
        var theirs = JsonNode.Parse(node.Sent)!.AsObject();

        NodeSendsItsOwnObjects(theirs, node);
        ExtinfoAsMetaDocumentsIt(theirs);
        foreach (var path in NotInTheNodeSdk)
        {
            var (parent, key) = path.Split('.') is [var p, var k] ? (p, k) : throw new InvalidOperationException(path);
            (ours[parent] as JsonObject)?.Remove(key);
        }

        var differences = new List<string>();
        Compare(ours, theirs, "$", differences);
        Assert.True(differences.Count == 0, "This library and Meta's Node SDK 24.0.1 differ:\n" + string.Join("\n", differences)
            + $"\nours:  {ours.ToJsonString()}\nNode:  {theirs.ToJsonString()}");
    }

    /// <summary>
    /// The SDK sends <c>original_event_data</c> and <c>attribution_data</c> as the objects themselves (server-event.js
    /// l.574/578), whose JSON carries their private keys: checked to be so, then replaced by their <c>normalize()</c>.
    /// </summary>
    private static void NodeSendsItsOwnObjects(JsonObject theirs, NodeSdkEvent node)
    {
        foreach (var (key, normalized) in new[] { ("original_event_data", node.Original), ("attribution_data", node.Attribution) })
        {
            if (theirs[key] is not JsonObject sent)
            {
                continue;
            }

            Assert.All(sent, member => Assert.StartsWith("_", member.Key, StringComparison.Ordinal));
            theirs[key] = JsonNode.Parse(normalized!);
        }
    }

    /// <summary>The SDK's <c>extinfo</c> object ("0".."15", unknown ones left out) as the array of 16 strings Meta documents.</summary>
    private static void ExtinfoAsMetaDocumentsIt(JsonObject theirs)
    {
        if (theirs["app_data"]?["extinfo"] is not JsonObject extinfo)
        {
            return;
        }

        var array = new JsonArray();
        for (var i = 0; i < 16; i++)
        {
            var value = extinfo[i.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            array.Add(value is null ? "" : value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString());
        }

        theirs["app_data"]!["extinfo"] = array;
    }

    /// <summary>Objects as sets of keys, arrays in order, numbers as values, everything else as written.</summary>
    private static void Compare(JsonNode? ours, JsonNode? theirs, string path, List<string> differences)
    {
        switch (ours, theirs)
        {
            case (JsonObject a, JsonObject b):
                foreach (var key in a.Select(m => m.Key).Union(b.Select(m => m.Key)))
                {
                    if (!a.ContainsKey(key))
                    {
                        differences.Add($"{path}.{key}: only the Node SDK sends it ({b[key]?.ToJsonString()})");
                    }
                    else if (!b.ContainsKey(key))
                    {
                        differences.Add($"{path}.{key}: only this library sends it ({a[key]?.ToJsonString()})");
                    }
                    else
                    {
                        Compare(a[key], b[key], $"{path}.{key}", differences);
                    }
                }

                break;
            case (JsonArray a, JsonArray b):
                if (a.Count != b.Count)
                {
                    differences.Add($"{path}: {a.Count} items here, {b.Count} in the Node SDK's");
                }

                for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
                {
                    Compare(a[i], b[i], $"{path}[{i}]", differences);
                }

                break;
            case (JsonValue a, JsonValue b) when a.GetValueKind() == JsonValueKind.Number && b.GetValueKind() == JsonValueKind.Number:
                if (decimal.Parse(a.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)
                    != decimal.Parse(b.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture))
                {
                    differences.Add($"{path}: {a.ToJsonString()} here, {b.ToJsonString()} in the Node SDK's");
                }

                break;
            default:
                if (ours?.ToJsonString() != theirs?.ToJsonString())
                {
                    differences.Add($"{path}: {ours?.ToJsonString()} here, {theirs?.ToJsonString()} in the Node SDK's");
                }

                break;
        }
    }
}
