using System.Text.Json;
using CapiMiddleware.Cookies;
using CapiMiddleware.Events;

namespace CapiMiddleware.Tests.Events;

public sealed class GraphEventWriterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Writes_Meta_s_field_names_hashes_once_and_leaves_browser_ids_unhashed()
    {
        var conversion = Website(new ConversionEvent("Lead")
        {
            UserData = new UserData
            {
                Email = "A@B.COM",
                ClickId = "fb.1.1700000000000.AbC",
                BrowserId = "fb.1.1700000000000.123",
                ClientIpAddress = "2001:db8::1",
            },
        });

        var json = Serialize(conversion, "id-1");

        Assert.Equal("Lead", json.GetProperty("event_name").GetString());
        Assert.Equal(Now.ToUnixTimeSeconds(), json.GetProperty("event_time").GetInt64());
        Assert.Equal("id-1", json.GetProperty("event_id").GetString());
        var user = json.GetProperty("user_data");
        // printf %s a@b.com | sha256sum
        Assert.Equal("fb98d44ad7501a959f3f4f4a3f004fe2d9e581ea6207e218c4b02c08a4d75adf", user.GetProperty("em")[0].GetString());
        Assert.Equal("fb.1.1700000000000.AbC", user.GetProperty("fbc").GetString());
        Assert.Equal("fb.1.1700000000000.123", user.GetProperty("fbp").GetString());
        Assert.Equal("2001:db8::1", user.GetProperty("client_ip_address").GetString());
        Assert.False(json.TryGetProperty("custom_data", out _));
    }

    [Fact]
    public void Already_hashed_values_pass_through_lowercased_and_several_values_are_each_hashed()
    {
        const string Hash = "FB98D44AD7501A959F3F4F4A3F004FE2D9E581EA6207E218C4B02C08A4D75ADF";
        var user = new UserData { Email = Hash };
        user.AddEmail("a@b.com").AddEmail("c@d.com").AddEmail("not an email");

        var json = Serialize(Website(new ConversionEvent("Lead") { UserData = user }), "id");

        var emails = json.GetProperty("user_data").GetProperty("em").EnumerateArray().Select(e => e.GetString()).ToList();
        // the first two are the same person, sent once; the invalid one is dropped
        Assert.Equal(2, emails.Count);
        Assert.Equal(Hash.ToLowerInvariant(), emails[0]);
    }

    [Theory]
    [InlineData("fb.1.1700000000000.AbC", "fb.1.1700000000000.not-a-number", "not an address")]
    [InlineData("fb.1.x.AbC", "fb.1.1700000000000", "999.1.1.1")]
    public void Malformed_browser_identifiers_are_dropped_so_Meta_cannot_refuse_the_batch(string fbc, string fbp, string ip)
    {
        var json = Serialize(Website(new ConversionEvent("Lead")
        {
            UserData = new UserData { ClickId = fbc, BrowserId = fbp, ClientIpAddress = ip, Email = "a@b.com" },
        }), "id");

        var user = json.GetProperty("user_data");
        Assert.Equal(MetaCookies.IsValid(fbc), user.TryGetProperty("fbc", out _));
        Assert.False(user.TryGetProperty("fbp", out _));
        Assert.False(user.TryGetProperty("client_ip_address", out _));
        Assert.True(user.TryGetProperty("em", out _));
    }

    [Fact]
    public void Every_personal_field_takes_several_values()
    {
        var user = new UserData { FirstName = "Ann", City = "Paris", Country = "FR" };
        user.AddFirstName("Anne").AddFirstName(" ANN ").AddLastName("Smith").AddLastName("Jones")
            .AddGender("female").AddGender("F").AddDateOfBirth("1990-02-28").AddDateOfBirth("31/13/1990")
            .AddCity("Lyon").AddState("Ontario").AddState("QC").AddZip("75008").AddZip("69001")
            .AddCountry("Germany").AddCountry("fr").AddExternalId("a-1").AddExternalId("A-1");

        var json = Serialize(Website(new ConversionEvent("Lead") { UserData = user }), "id").GetProperty("user_data");

        int Count(string key) => json.GetProperty(key).GetArrayLength();
        Assert.Equal(2, Count("fn")); // "Ann" and " ANN " are the same person
        Assert.Equal(2, Count("ln"));
        Assert.Equal(1, Count("ge")); // female and F are the same
        Assert.Equal(1, Count("db")); // the impossible date is dropped
        Assert.Equal(2, Count("ct"));
        Assert.Equal(2, Count("st"));
        Assert.Equal(2, Count("zp"));
        Assert.Equal(2, Count("country")); // FR, DE, fr
        Assert.Equal(1, Count("external_id"));
    }

    [Fact]
    public void An_invalid_field_is_dropped_never_the_event()
    {
        var json = Serialize(Website(new ConversionEvent("Lead") { UserData = new UserData { Email = "nope", Phone = "+44 20 7946 0958" } }), "id");
        var user = json.GetProperty("user_data");
        Assert.False(user.TryGetProperty("em", out _));
        Assert.True(user.TryGetProperty("ph", out _));
    }

    [Fact]
    public void Custom_data_fills_content_ids_num_items_and_content_type_from_contents_and_keeps_custom_keys()
    {
        var data = new CustomData { Value = 30m, Currency = "usd" };
        data.Contents.Add(new Content("a", 2, 10m));
        data.Contents.Add(new Content("b", 1, 10m));
        data.Properties["coupon"] = "WINTER";
        data.Properties["first_order"] = true;
        data.Properties["value"] = 999; // a typed key cannot be written twice

        var custom = Serialize(Website(new ConversionEvent("Purchase") { CustomData = data }), "id").GetProperty("custom_data");

        Assert.Equal("USD", custom.GetProperty("currency").GetString());
        Assert.Equal(30m, custom.GetProperty("value").GetDecimal());
        Assert.Equal(["a", "b"], custom.GetProperty("content_ids").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(3, custom.GetProperty("num_items").GetInt32());
        Assert.Equal("product", custom.GetProperty("content_type").GetString());
        Assert.Equal("WINTER", custom.GetProperty("coupon").GetString());
        Assert.True(custom.GetProperty("first_order").GetBoolean());
    }

    [Fact]
    public void Net_revenue_and_predicted_ltv_are_written_like_value_and_cannot_be_shadowed_by_custom_keys()
    {
        var data = new CustomData { Value = 100m, Currency = "eur", NetRevenue = 32.50m, PredictedLtv = 410m };
        data.Properties["net_revenue"] = 1;
        data.Properties["predicted_ltv"] = "x";

        var custom = Serialize(Website(new ConversionEvent("Purchase") { CustomData = data }), "id").GetProperty("custom_data");

        Assert.Equal("32.50", custom.GetProperty("net_revenue").GetRawText());
        Assert.Equal("410", custom.GetProperty("predicted_ltv").GetRawText());
        Assert.Single(custom.EnumerateObject(), p => p.Name == "net_revenue");
        Assert.Single(custom.EnumerateObject(), p => p.Name == "predicted_ltv");
    }

    [Theory]
    [InlineData("net_revenue")]
    [InlineData("predicted_ltv")]
    public void Net_revenue_or_predicted_ltv_without_a_currency_is_refused_by_name(string field)
    {
        var data = field == "net_revenue" ? new CustomData { NetRevenue = 5m } : new CustomData { PredictedLtv = 5m };

        Assert.Null(GraphEventWriter.TryCreate(Website(new ConversionEvent("Lead") { CustomData = data }), "id", Now, out var problem));
        Assert.Contains($"{field} needs a currency", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Original_event_data_names_the_earlier_event_and_is_left_out_when_empty()
    {
        var purchase = Now.AddDays(-2);
        var followUp = Website(new ConversionEvent("Purchase")
        {
            CustomData = new CustomData { Value = 0m, Currency = "USD", NetRevenue = 12m },
            OriginalEventData = new OriginalEventData { EventName = "Purchase", EventTime = purchase, OrderId = "o-17", EventId = "e-17" },
        });

        var original = Serialize(followUp, "id").GetProperty("original_event_data");
        Assert.Equal(
            $$"""{"event_name":"Purchase","event_time":{{purchase.ToUnixTimeSeconds()}},"order_id":"o-17","event_id":"e-17"}""",
            original.GetRawText());

        Assert.False(Serialize(followUp with { OriginalEventData = new OriginalEventData() }, "id").TryGetProperty("original_event_data", out _));
        Assert.Equal(
            """{"order_id":"o-17"}""",
            Serialize(followUp with { OriginalEventData = new OriginalEventData { OrderId = "o-17", EventId = "" } }, "id").GetProperty("original_event_data").GetRawText());
    }

    [Fact]
    public void An_original_event_name_Meta_would_refuse_refuses_the_event()
    {
        var followUp = Website(new ConversionEvent("Purchase")
        {
            CustomData = new CustomData { Value = 1m, Currency = "USD" },
            OriginalEventData = new OriginalEventData { EventName = "  " },
        });

        Assert.Null(GraphEventWriter.TryCreate(followUp, "id", Now, out var problem));
        Assert.StartsWith("original_event_data: ", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-user-agent")]
    [InlineData("no-url")]
    [InlineData("purchase-without-value")]
    [InlineData("bad-currency")]
    [InlineData("too-old")]
    [InlineData("future")]
    public void Events_Meta_would_reject_are_refused_with_a_reason(string fault)
    {
        // An empty or forged name never gets this far: the constructor refuses it (EventNameTests).
        var conversion = Website(new ConversionEvent("Purchase")
        {
            CustomData = new CustomData { Value = 1m, Currency = fault == "bad-currency" ? "dollars" : "USD" },
        });
        conversion = fault switch
        {
            "no-user-agent" => conversion with { UserData = new UserData() },
            "no-url" => conversion with { EventSourceUrl = null },
            "purchase-without-value" => conversion with { CustomData = new CustomData() },
            "too-old" => conversion with { EventTime = Now.AddDays(-8) },
            "future" => conversion with { EventTime = Now.AddMinutes(10) },
            _ => conversion,
        };

        Assert.Null(GraphEventWriter.TryCreate(conversion, "id", Now, out var problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public void Store_sales_may_be_up_to_62_days_old_and_need_no_browser_fields()
    {
        var sale = new ConversionEvent("Purchase")
        {
            ActionSource = ActionSource.PhysicalStore,
            EventTime = Now.AddDays(-30),
            UserData = new UserData { Email = "buyer@example.com" },
            CustomData = new CustomData { Value = 5m, Currency = "EUR" },
        };

        Assert.NotNull(GraphEventWriter.TryCreate(sale, "id", Now, out _));
        Assert.Null(GraphEventWriter.TryCreate(sale with { EventTime = Now.AddDays(-63) }, "id", Now, out _));
        Assert.Equal("physical_store", Serialize(sale, "id").GetProperty("action_source").GetString());
    }

    [Theory]
    [InlineData(ActionSource.Email, "email", 7)]
    [InlineData(ActionSource.PhoneCall, "phone_call", 7)]
    [InlineData(ActionSource.Chat, "chat", 7)]
    [InlineData(ActionSource.PhysicalStore, "physical_store", 62)]
    [InlineData(ActionSource.SystemGenerated, "system_generated", 7)]
    [InlineData(ActionSource.Other, "other", 7)]
    public void Offline_sources_need_one_customer_field_no_browser_fields_and_keep_their_age_limit(ActionSource source, string wireName, int maxDays)
    {
        var order = new ConversionEvent("Purchase")
        {
            ActionSource = source,
            EventTime = Now.AddDays(-maxDays).AddHours(1),
            UserData = new UserData { Phone = "+1 (555) 123-4567" },
            CustomData = new CustomData { Value = 30m, Currency = "USD" },
        };

        var json = Serialize(order, "order-1");
        Assert.Equal(wireName, json.GetProperty("action_source").GetString());
        Assert.False(json.TryGetProperty("event_source_url", out _));
        Assert.Equal(["ph"], json.GetProperty("user_data").EnumerateObject().Select(p => p.Name));

        Assert.Null(GraphEventWriter.TryCreate(order with { EventTime = Now.AddDays(-maxDays).AddHours(-1) }, "order-1", Now, out var tooOld));
        Assert.Contains($"{maxDays} days", tooOld, StringComparison.Ordinal);

        // A phone number that normalizes to nothing leaves no customer field: Meta would refuse it, and the batch.
        Assert.Null(GraphEventWriter.TryCreate(order with { UserData = new UserData { Phone = "n/a", Email = "not an email" } }, "order-1", Now, out var empty));
        Assert.Contains("customer information", empty, StringComparison.Ordinal);
    }

    [Fact]
    public void A_CRM_event_with_only_a_lead_ID_is_accepted_and_the_lead_ID_is_sent_unhashed()
    {
        var stage = new ConversionEvent("QualifiedLead")
        {
            ActionSource = ActionSource.SystemGenerated,
            UserData = new UserData { LeadId = " 1234567890123456 " },
            CustomData = { Properties = { ["lead_event_source"] = "HubSpot", ["event_source"] = "crm" } },
        };

        var json = Serialize(stage, "id");
        Assert.Equal("""{"lead_id":"1234567890123456"}""", json.GetProperty("user_data").GetRawText());
        Assert.Equal("crm", json.GetProperty("custom_data").GetProperty("event_source").GetString());
    }

    [Theory]
    [InlineData("12345678901234")] // 14 digits
    [InlineData("123456789012345678")] // 18 digits
    [InlineData("12345678901234x")]
    [InlineData("1234567890123456.0")]
    public void An_invalid_lead_ID_is_dropped_so_Meta_cannot_refuse_the_event_and_alone_it_leaves_no_customer_field(string leadId)
    {
        var stage = new ConversionEvent("QualifiedLead") { ActionSource = ActionSource.SystemGenerated, UserData = new UserData { LeadId = leadId } };
        Assert.Null(GraphEventWriter.TryCreate(stage, "id", Now, out var problem));
        Assert.Contains("customer information", problem, StringComparison.Ordinal);

        stage.UserData.Email = "a@b.com";
        Assert.False(Serialize(stage, "id").GetProperty("user_data").TryGetProperty("lead_id", out _));
    }

    [Fact]
    public void An_app_event_with_app_data_and_only_device_IDs_is_accepted_and_extinfo_is_the_array_of_16_Meta_documents()
    {
        var install = new ConversionEvent("MobileAppInstall")
        {
            ActionSource = ActionSource.App,
            UserData = new UserData { AdvertisingId = "38400000-8cf0-11bd-b23e-10b96e40000d", InstallId = "12345340-1234-3456-1234-123456789012" },
            AppData = new AppData
            {
                AdvertiserTrackingEnabled = false,
                ApplicationTrackingEnabled = true,
                ExtendedDeviceInfo = new ExtendedDeviceInfo { Version = "a2", PackageName = "com.some.app", OsVersion = "10.1.1", ScreenWidth = 1920, TotalDiskSpaceGb = 128.5m },
            },
        };

        var json = Serialize(install, "id");
        Assert.False(json.TryGetProperty("event_source_url", out _));
        Assert.Equal(
            """{"madid":"38400000-8cf0-11bd-b23e-10b96e40000d","anon_id":"12345340-1234-3456-1234-123456789012"}""",
            json.GetProperty("user_data").GetRawText());
        Assert.Equal(
            """{"advertiser_tracking_enabled":false,"application_tracking_enabled":true,"extinfo":["a2","com.some.app","","","10.1.1","","","","","1920","","","","128.5","",""]}""",
            json.GetProperty("app_data").GetRawText());
        Assert.False(json.TryGetProperty("advertiser_tracking_enabled", out _)); // app_data only, as in the newer Python SDK
    }

    [Theory]
    [InlineData("no-app-data", "app_data (ConversionEvent.AppData)")]
    [InlineData("no-tracking-consent", "app_data.advertiser_tracking_enabled")]
    [InlineData("no-extinfo", "app_data.extinfo")]
    [InlineData("bad-version", "extinfo[0]")]
    [InlineData("no-os-version", "extinfo[4]")]
    public void App_events_without_what_Meta_requires_are_refused_naming_the_missing_field(string fault, string named)
    {
        var device = new ExtendedDeviceInfo { Version = "i2", OsVersion = "17.4.1" };
        var app = new AppData { AdvertiserTrackingEnabled = true, ExtendedDeviceInfo = device };
        app = fault switch
        {
            "no-app-data" => null,
            "no-tracking-consent" => app with { AdvertiserTrackingEnabled = null },
            "no-extinfo" => app with { ExtendedDeviceInfo = null },
            "bad-version" => app with { ExtendedDeviceInfo = device with { Version = "ios" } },
            "no-os-version" => app with { ExtendedDeviceInfo = device with { OsVersion = " " } },
            _ => app,
        };
        var purchase = new ConversionEvent("Purchase")
        {
            ActionSource = ActionSource.App,
            UserData = new UserData { AdvertisingId = "idfa" },
            CustomData = new CustomData { Value = 30m, Currency = "USD" },
            AppData = app,
        };

        Assert.Null(GraphEventWriter.TryCreate(purchase, "id", Now, out var problem));
        Assert.Contains(named, problem, StringComparison.Ordinal);
        Assert.NotNull(GraphEventWriter.TryCreate(purchase with { AppData = new AppData { AdvertiserTrackingEnabled = true, ExtendedDeviceInfo = device } }, "id", Now, out _));
    }

    [Theory]
    [InlineData(MessagingChannel.WhatsApp, "whatsapp", "whatsapp_business_account_id", "ctwa_clid")]
    [InlineData(MessagingChannel.Messenger, "messenger", "page_id", "page_scoped_user_id")]
    [InlineData(MessagingChannel.Instagram, "instagram", "instagram_business_account_id", "ig_sid")]
    public void Business_messaging_events_need_the_channel_and_its_two_IDs_and_no_browser_fields(MessagingChannel channel, string wire, string account, string person)
    {
        var user = new UserData();
        SetId(user, account, "102030405060708");
        SetId(user, person, person == "ctwa_clid" ? "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a" : "6655443322");
        var order = new ConversionEvent("OrderCreated") { ActionSource = ActionSource.BusinessMessaging, MessagingChannel = channel, UserData = user };

        var json = Serialize(order, "id");
        Assert.Equal(wire, json.GetProperty("messaging_channel").GetString());
        Assert.Equal("business_messaging", json.GetProperty("action_source").GetString());
        Assert.Equal(new[] { account, person }.Order(StringComparer.Ordinal), json.GetProperty("user_data").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        var withoutPerson = new UserData();
        SetId(withoutPerson, account, "102030405060708");
        withoutPerson.Email = "a@b.com";
        Assert.Null(GraphEventWriter.TryCreate(order with { UserData = withoutPerson }, "id", Now, out var missing));
        Assert.Contains($"{person} is missing", missing, StringComparison.Ordinal);
        Assert.Null(GraphEventWriter.TryCreate(order with { MessagingChannel = null }, "id", Now, out var noChannel));
        Assert.Contains("messaging_channel", noChannel, StringComparison.Ordinal);
    }

    [Fact]
    public void Contents_carry_title_description_brand_category_and_delivery_category_and_custom_data_its_new_keys()
    {
        var data = new CustomData { Value = 20m, Currency = "USD", DeliveryCategory = DeliveryCategory.Curbside, ItemNumber = "2" };
        data.Contents.Add(new Content("sku-1", 2, 10m) { Title = "Mug", Description = "A \"big\" mug", Brand = "Acme", Category = "Kitchen", DeliveryCategory = DeliveryCategory.HomeDelivery });
        data.Contents.Add(new Content("sku-2") { DeliveryCategory = DeliveryCategory.InStore });
        data.Properties["item_number"] = "shadow";
        data.Properties["delivery_category"] = "shadow";

        var custom = Serialize(Website(new ConversionEvent("Purchase") { CustomData = data }), "id").GetProperty("custom_data");

        Assert.Equal(
            """[{"id":"sku-1","quantity":2,"item_price":10,"title":"Mug","description":"A \u0022big\u0022 mug","brand":"Acme","category":"Kitchen","delivery_category":"home_delivery"},{"id":"sku-2","quantity":1,"delivery_category":"in_store"}]""",
            custom.GetProperty("contents").GetRawText());
        Assert.Equal("curbside", custom.GetProperty("delivery_category").GetString());
        Assert.Equal("2", custom.GetProperty("item_number").GetString());
        Assert.Single(custom.EnumerateObject(), p => p.Name == "item_number");
    }

    [Fact]
    public void A_delivery_category_or_an_attribution_enum_outside_the_enum_is_refused_not_thrown()
    {
        var purchase = Website(new ConversionEvent("Purchase") { CustomData = new CustomData { Value = 1m, Currency = "USD", DeliveryCategory = (DeliveryCategory)99 } });
        Assert.Null(GraphEventWriter.TryCreate(purchase, "id", Now, out var problem));
        Assert.Contains("delivery_category", problem, StringComparison.Ordinal);

        var passback = Website(new ConversionEvent("Purchase") { CustomData = new CustomData { Value = 1m, Currency = "USD" }, AttributionData = new AttributionData { DeclineReason = (DeclineReason)99 } });
        Assert.Null(GraphEventWriter.TryCreate(passback, "id", Now, out problem));
        Assert.Contains("attribution_data", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Attribution_data_is_written_with_its_enums_wire_strings_times_in_seconds_and_zero_windows_kept()
    {
        var touch = Now.AddHours(-30);
        var passback = Website(new ConversionEvent("Purchase")
        {
            CustomData = new CustomData { Value = 10m, Currency = "USD" },
            AttributionData = new AttributionData
            {
                AdId = "120200000000000001",
                AttributionShare = 0.3m,
                AttributionModel = AttributionModel.PositionBased,
                AttributionMethod = AttributionMethod.InvalidResponse,
                DeclineReason = DeclineReason.MinTimeBetweenReEngagements,
                TouchpointTime = touch,
                TotalCredit = 1m,
                AttributionSetting = new AttributionSetting { InactivityWindowHours = 0, ReattributionWindowHours = 24 },
            },
        });

        Assert.Equal(
            $$$"""{"ad_id":"120200000000000001","attribution_share":0.3,"attribution_model":"position_based","touchpoint_ts":{{{touch.ToUnixTimeSeconds()}}},"attribution_method":"invalid_response","decline_reason":"min_time_between_re_engagements","total_credit":1,"attribution_setting":{"inactivity_window_hours":0,"reattribution_window_hours":24}}""",
            Serialize(passback, "id").GetProperty("attribution_data").GetRawText());
        Assert.False(Serialize(passback with { AttributionData = new AttributionData() }, "id").TryGetProperty("attribution_data", out _));
    }

    private static void SetId(UserData user, string wireName, string value)
    {
        switch (wireName)
        {
            case "whatsapp_business_account_id": user.WhatsAppBusinessAccountId = value; break;
            case "ctwa_clid": user.WhatsAppClickId = value; break;
            case "page_id": user.PageId = value; break;
            case "page_scoped_user_id": user.PageScopedUserId = value; break;
            case "instagram_business_account_id": user.InstagramBusinessAccountId = value; break;
            case "ig_sid": user.InstagramScopedUserId = value; break;
            default: throw new ArgumentOutOfRangeException(nameof(wireName), wireName, null);
        }
    }

    private static ConversionEvent Website(ConversionEvent conversion) => conversion with
    {
        EventSourceUrl = "https://shop.example.com/p",
        UserData = AddAgent(conversion.UserData),
    };

    private static UserData AddAgent(UserData user)
    {
        user.ClientUserAgent ??= "Mozilla/5.0";
        return user;
    }

    private static JsonElement Serialize(ConversionEvent conversion, string eventId)
    {
        var graphEvent = GraphEventWriter.TryCreate(conversion, eventId, Now, out var problem);
        Assert.True(graphEvent is not null, problem);
        return JsonDocument.Parse(GraphEventWriter.Serialize(graphEvent)).RootElement.Clone();
    }
}
