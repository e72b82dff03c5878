using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace CapiMiddleware.Events;

/// <summary>
/// Writes a <see cref="GraphEvent"/> as the wire JSON, byte for byte what the source-generated
/// <c>GraphJsonContext.Default.GraphEvent</c> writes (same order, nulls left out, same escaping), at a fraction of its
/// cost: the property names are UTF-8 constants with their punctuation, the hashes (hex digits only) are copied in as
/// they are, and a string is transcoded once and copied in when <see cref="JavaScriptEncoder.Default"/> finds nothing
/// in it to escape; only a string that needs escaping, and <c>custom_data</c>'s extension data, go through a
/// <see cref="Utf8JsonWriter"/> (docs/performance.md). <c>GraphEventJsonTests</c> holds the two together.
/// </summary>
internal static class GraphEventJson
{
    private static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789abcdefABCDEF"u8);

    [ThreadStatic]
    private static JsonText? t_text;

    /// <summary>The event's JSON object, UTF-8, in an array of its own (the outbox keeps it).</summary>
    public static byte[] Serialize(GraphEvent graphEvent)
    {
        var text = t_text ??= new JsonText();
        try
        {
            Write(text, graphEvent);
            return text.ToArray();
        }
        finally
        {
            if (!text.Reset())
            {
                t_text = null; // grown past what is worth keeping for an unusual event
            }
        }
    }

    private static void Write(JsonText json, GraphEvent e)
    {
        json.Raw("{\"event_name\":"u8);
        json.String(e.EventName);
        json.Raw(",\"event_time\":"u8);
        json.Number(e.EventTime);
        json.Raw(",\"event_id\":"u8);
        json.String(e.EventId);
        json.Raw(",\"action_source\":"u8);
        json.String(e.ActionSource);
        StringIfNotNull(json, "\"event_source_url\":"u8, e.EventSourceUrl);
        StringIfNotNull(json, "\"referrer_url\":"u8, e.ReferrerUrl);
        if (e.OptOut is { } optOut)
        {
            json.Name("\"opt_out\":"u8);
            json.Raw(optOut ? "true"u8 : "false"u8);
        }

        if (e.DataProcessingOptions is { } processing)
        {
            json.Name("\"data_processing_options\":"u8);
            Strings(json, processing);
        }

        if (e.DataProcessingOptionsCountry is { } country)
        {
            json.Name("\"data_processing_options_country\":"u8);
            json.Number(country);
        }

        if (e.DataProcessingOptionsState is { } state)
        {
            json.Name("\"data_processing_options_state\":"u8);
            json.Number(state);
        }

        json.Name("\"user_data\":"u8);
        WriteUserData(json, e.UserData);
        if (e.CustomData is { } custom)
        {
            json.Name("\"custom_data\":"u8);
            WriteCustomData(json, custom);
        }

        if (e.OriginalEventData is { } original)
        {
            json.Name("\"original_event_data\":"u8);
            json.Raw("{"u8);
            StringIfNotNull(json, "\"event_name\":"u8, original.EventName);
            NumberIfNotNull(json, "\"event_time\":"u8, original.EventTime);
            StringIfNotNull(json, "\"order_id\":"u8, original.OrderId);
            StringIfNotNull(json, "\"event_id\":"u8, original.EventId);
            json.Raw("}"u8);
        }

        if (e.AttributionData is { } attribution)
        {
            json.Name("\"attribution_data\":"u8);
            WriteAttributionData(json, attribution);
        }

        StringIfNotNull(json, "\"messaging_channel\":"u8, e.MessagingChannel);
        if (e.AppData is { } app)
        {
            json.Name("\"app_data\":"u8);
            WriteAppData(json, app);
        }

        StringIfNotNull(json, "\"advanced_measurement_table\":"u8, e.AdvancedMeasurementTable);
        json.Raw("}"u8);
    }

    private static void WriteUserData(JsonText json, GraphUserData user)
    {
        json.Raw("{"u8);
        Hashes(json, "\"em\":"u8, user.Email);
        Hashes(json, "\"ph\":"u8, user.Phone);
        Hashes(json, "\"fn\":"u8, user.FirstName);
        Hashes(json, "\"ln\":"u8, user.LastName);
        Hashes(json, "\"ge\":"u8, user.Gender);
        Hashes(json, "\"db\":"u8, user.DateOfBirth);
        Hashes(json, "\"ct\":"u8, user.City);
        Hashes(json, "\"st\":"u8, user.State);
        Hashes(json, "\"zp\":"u8, user.Zip);
        Hashes(json, "\"country\":"u8, user.Country);
        Hashes(json, "\"external_id\":"u8, user.ExternalId);
        StringIfNotNull(json, "\"client_ip_address\":"u8, user.ClientIpAddress);
        StringIfNotNull(json, "\"client_user_agent\":"u8, user.ClientUserAgent);
        StringIfNotNull(json, "\"fbc\":"u8, user.ClickId);
        StringIfNotNull(json, "\"fbp\":"u8, user.BrowserId);
        StringIfNotNull(json, "\"subscription_id\":"u8, user.SubscriptionId);
        StringIfNotNull(json, "\"fb_login_id\":"u8, user.FacebookLoginId);
        StringIfNotNull(json, "\"lead_id\":"u8, user.LeadId);
        StringIfNotNull(json, "\"f5first\":"u8, user.FirstNamePrefix);
        StringIfNotNull(json, "\"f5last\":"u8, user.LastNamePrefix);
        StringIfNotNull(json, "\"fi\":"u8, user.FirstInitial);
        StringIfNotNull(json, "\"dobd\":"u8, user.BirthDay);
        StringIfNotNull(json, "\"dobm\":"u8, user.BirthMonth);
        StringIfNotNull(json, "\"doby\":"u8, user.BirthYear);
        StringIfNotNull(json, "\"madid\":"u8, user.AdvertisingId);
        StringIfNotNull(json, "\"anon_id\":"u8, user.InstallId);
        StringIfNotNull(json, "\"app_user_id\":"u8, user.AppUserId);
        StringIfNotNull(json, "\"ctwa_clid\":"u8, user.WhatsAppClickId);
        StringIfNotNull(json, "\"page_id\":"u8, user.PageId);
        StringIfNotNull(json, "\"page_scoped_user_id\":"u8, user.PageScopedUserId);
        StringIfNotNull(json, "\"ig_account_id\":"u8, user.InstagramAccountId);
        StringIfNotNull(json, "\"ig_sid\":"u8, user.InstagramScopedUserId);
        StringIfNotNull(json, "\"whatsapp_business_account_id\":"u8, user.WhatsAppBusinessAccountId);
        StringIfNotNull(json, "\"instagram_business_account_id\":"u8, user.InstagramBusinessAccountId);
        json.Raw("}"u8);
    }

    private static void WriteAttributionData(JsonText json, GraphAttributionData a)
    {
        json.Raw("{"u8);
        StringIfNotNull(json, "\"scope\":"u8, a.Scope);
        NumberIfNotNull(json, "\"visit_time\":"u8, a.VisitTime);
        StringIfNotNull(json, "\"ad_id\":"u8, a.AdId);
        StringIfNotNull(json, "\"adset_id\":"u8, a.AdSetId);
        StringIfNotNull(json, "\"campaign_id\":"u8, a.CampaignId);
        NumberIfNotNull(json, "\"attribution_share\":"u8, a.AttributionShare);
        StringIfNotNull(json, "\"attribution_model\":"u8, a.AttributionModel);
        NumberIfNotNull(json, "\"attr_window\":"u8, a.AttributionWindow);
        NumberIfNotNull(json, "\"attribution_value\":"u8, a.AttributionValue);
        StringIfNotNull(json, "\"attribution_source\":"u8, a.AttributionSource);
        StringIfNotNull(json, "\"touchpoint_type\":"u8, a.TouchpointType);
        NumberIfNotNull(json, "\"touchpoint_ts\":"u8, a.TouchpointTime);
        StringIfNotNull(json, "\"attribution_method\":"u8, a.AttributionMethod);
        StringIfNotNull(json, "\"decline_reason\":"u8, a.DeclineReason);
        StringIfNotNull(json, "\"auditing_token\":"u8, a.AuditingToken);
        StringIfNotNull(json, "\"linkage_key\":"u8, a.LinkageKey);
        StringIfNotNull(json, "\"touchpoint_id\":"u8, a.TouchpointId);
        NumberIfNotNull(json, "\"total_credit\":"u8, a.TotalCredit);
        StringIfNotNull(json, "\"partner_client_id\":"u8, a.PartnerClientId);
        if (a.AttributionSetting is { } setting)
        {
            json.Name("\"attribution_setting\":"u8);
            json.Raw("{"u8);
            NumberIfNotNull(json, "\"inactivity_window_hours\":"u8, setting.InactivityWindowHours);
            NumberIfNotNull(json, "\"reattribution_window_hours\":"u8, setting.ReattributionWindowHours);
            json.Raw("}"u8);
        }

        json.Raw("}"u8);
    }

    private static void WriteAppData(JsonText json, GraphAppData app)
    {
        json.Raw("{"u8);
        BoolIfNotNull(json, "\"advertiser_tracking_enabled\":"u8, app.AdvertiserTrackingEnabled);
        BoolIfNotNull(json, "\"application_tracking_enabled\":"u8, app.ApplicationTrackingEnabled);
        if (app.ExtendedDeviceInfo is { } extinfo)
        {
            json.Name("\"extinfo\":"u8);
            Strings(json, extinfo);
        }

        StringIfNotNull(json, "\"campaign_ids\":"u8, app.CampaignIds);
        BoolIfNotNull(json, "\"consider_views\":"u8, app.ConsiderViews);
        BoolIfNotNull(json, "\"include_dwell_data\":"u8, app.IncludeDwellData);
        BoolIfNotNull(json, "\"include_video_data\":"u8, app.IncludeVideoData);
        StringIfNotNull(json, "\"install_referrer\":"u8, app.InstallReferrer);
        StringIfNotNull(json, "\"installer_package\":"u8, app.InstallerPackage);
        StringIfNotNull(json, "\"receipt_data\":"u8, app.ReceiptData);
        if (app.UrlSchemes is { } schemes)
        {
            json.Name("\"url_schemes\":"u8);
            Strings(json, schemes);
        }

        StringIfNotNull(json, "\"vendor_id\":"u8, app.VendorId);
        StringIfNotNull(json, "\"windows_attribution_id\":"u8, app.WindowsAttributionId);
        json.Raw("}"u8);
    }

    private static void WriteCustomData(JsonText json, GraphCustomData custom)
    {
        json.Raw("{"u8);
        if (custom.Value is { } value)
        {
            json.Name("\"value\":"u8);
            json.Number(value);
        }

        StringIfNotNull(json, "\"currency\":"u8, custom.Currency);
        StringIfNotNull(json, "\"order_id\":"u8, custom.OrderId);
        if (custom.ContentIds is { } ids)
        {
            json.Name("\"content_ids\":"u8);
            Strings(json, ids);
        }

        if (custom.Contents is { } contents)
        {
            json.Name("\"contents\":"u8);
            json.Raw("["u8);
            foreach (var content in contents)
            {
                json.Name("{\"id\":"u8);
                json.String(content.Id);
                json.Raw(",\"quantity\":"u8);
                json.Number(content.Quantity);
                if (content.ItemPrice is { } price)
                {
                    json.Raw(",\"item_price\":"u8);
                    json.Number(price);
                }

                StringIfNotNull(json, "\"title\":"u8, content.Title);
                StringIfNotNull(json, "\"description\":"u8, content.Description);
                StringIfNotNull(json, "\"brand\":"u8, content.Brand);
                StringIfNotNull(json, "\"category\":"u8, content.Category);
                StringIfNotNull(json, "\"delivery_category\":"u8, content.DeliveryCategory);
                json.Raw("}"u8);
            }

            json.Raw("]"u8);
        }

        StringIfNotNull(json, "\"content_type\":"u8, custom.ContentType);
        StringIfNotNull(json, "\"content_name\":"u8, custom.ContentName);
        StringIfNotNull(json, "\"content_category\":"u8, custom.ContentCategory);
        if (custom.NumItems is { } numItems)
        {
            json.Name("\"num_items\":"u8);
            json.Number(numItems);
        }

        StringIfNotNull(json, "\"search_string\":"u8, custom.SearchString);
        StringIfNotNull(json, "\"status\":"u8, custom.Status);
        StringIfNotNull(json, "\"item_number\":"u8, custom.ItemNumber);
        StringIfNotNull(json, "\"delivery_category\":"u8, custom.DeliveryCategory);
        NumberIfNotNull(json, "\"net_revenue\":"u8, custom.NetRevenue);
        NumberIfNotNull(json, "\"predicted_ltv\":"u8, custom.PredictedLtv);
        if (custom.Properties is { } properties)
        {
            // Extension data as System.Text.Json writes it: every entry, its value as it is (a null one too).
            foreach (var (key, element) in properties)
            {
                json.Name(default);
                json.String(key);
                json.Raw(":"u8);
                json.Element(element);
            }
        }

        json.Raw("}"u8);
    }

    /// <summary>
    /// The hashes of a field, copied in as they are: each is hex digits only (our SHA-256, or a digest passed through as
    /// <c>UserDataHasher.TryGetDigest</c> recognizes it), so there is nothing to escape: each is only checked to be hex.
    /// </summary>
    private static void Hashes(JsonText json, ReadOnlySpan<byte> name, string[]? hashes)
    {
        if (hashes is null)
        {
            return;
        }

        json.Name(name);
        json.Raw("["u8);
        foreach (var hash in hashes)
        {
            json.Name(default);
            if (!json.TryHex(hash))
            {
                json.String(hash); // never in practice; kept safe whatever reaches here
            }
        }

        json.Raw("]"u8);
    }

    private static void StringIfNotNull(JsonText json, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            json.Name(name);
            json.String(value);
        }
    }

    private static void NumberIfNotNull(JsonText json, ReadOnlySpan<byte> name, decimal? value)
    {
        if (value is { } number)
        {
            json.Name(name);
            json.Number(number);
        }
    }

    // An int is written as the same digits: the int? fields come here too.
    private static void NumberIfNotNull(JsonText json, ReadOnlySpan<byte> name, long? value)
    {
        if (value is { } number)
        {
            json.Name(name);
            json.Number(number);
        }
    }

    private static void BoolIfNotNull(JsonText json, ReadOnlySpan<byte> name, bool? value)
    {
        if (value is { } flag)
        {
            json.Name(name);
            json.Raw(flag ? "true"u8 : "false"u8);
        }
    }

    private static void Strings(JsonText json, string[] values)
    {
        json.Raw("["u8);
        foreach (var value in values)
        {
            json.Name(default);
            json.String(value);
        }

        json.Raw("]"u8);
    }

    /// <summary>
    /// UTF-8 JSON text in a growing array, written by the caller token by token. <see cref="Name"/> puts the comma
    /// before a member or element unless it is the first of its object or array, which is known from the byte before:
    /// only an opening bracket ends in <c>{</c> or <c>[</c>.
    /// </summary>
    private sealed class JsonText
    {
        // A buffer that grew past this for an unusual event is not kept for the thread's next one.
        private const int KeptSize = 16 * 1024;

        private byte[] _buffer = new byte[2048];
        private int _length;
        private ArrayBufferWriter<byte>? _escaped;
        private Utf8JsonWriter? _escaper;

        public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

        /// <summary>Empties the text; false when one of its buffers has grown too large to keep.</summary>
        public bool Reset()
        {
            _length = 0;
            return _buffer.Length <= KeptSize && (_escaped is null || _escaped.Capacity <= KeptSize);
        }

        public void Raw(ReadOnlySpan<byte> utf8)
        {
            utf8.CopyTo(Reserve(utf8.Length));
            _length += utf8.Length;
        }

        /// <summary>A comma unless first in its container, then the member's quoted name and colon (none for an element).</summary>
        public void Name(ReadOnlySpan<byte> quotedNameAndColon)
        {
            if (_length > 0 && _buffer[_length - 1] is not ((byte)'{' or (byte)'['))
            {
                Raw(","u8);
            }

            Raw(quotedNameAndColon);
        }

        public void Number(long value) => Formatted(Utf8Formatter.TryFormat(value, Reserve(20), out var written), written);

        public void Number(int value) => Formatted(Utf8Formatter.TryFormat(value, Reserve(11), out var written), written);

        // The format System.Text.Json writes a decimal in: "G", the scale kept (1234.5600).
        public void Number(decimal value) => Formatted(Utf8Formatter.TryFormat(value, Reserve(64), out var written), written);

        /// <summary>Copies <paramref name="hash"/> in quoted when it is hex digits only; false, and nothing written, otherwise.</summary>
        public bool TryHex(string hash)
        {
            var target = Reserve(hash.Length + 2);
            if (Ascii.FromUtf16(hash, target[1..], out var written) != OperationStatus.Done
                || target.Slice(1, written).ContainsAnyExcept(HexDigits))
            {
                return false;
            }

            target[0] = (byte)'"';
            target[written + 1] = (byte)'"';
            _length += written + 2;
            return true;
        }

        public void String(string value)
        {
            // UTF-16 takes at most three UTF-8 bytes a unit; nothing to escape is the rule for these values.
            var target = Reserve((value.Length * 3) + 2);
            if (Utf8.FromUtf16(value, target[1..], out _, out var written, replaceInvalidSequences: false) == OperationStatus.Done
                && JavaScriptEncoder.Default.FindFirstCharacterToEncodeUtf8(target.Slice(1, written)) < 0)
            {
                target[0] = (byte)'"';
                target[written + 1] = (byte)'"';
                _length += written + 2;
                return;
            }

            Escaped(static (writer, value) => writer.WriteStringValue(value), value);
        }

        public void Element(JsonElement element) => Escaped(static (writer, element) => element.WriteTo(writer), element);

        /// <summary>What a default <see cref="Utf8JsonWriter"/> writes for one value, escaping included.</summary>
        private void Escaped<T>(Action<Utf8JsonWriter, T> write, T value)
        {
            var buffer = _escaped ??= new ArrayBufferWriter<byte>(256);
            var writer = _escaper ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
            try
            {
                writer.Reset(buffer);
                write(writer, value);
                writer.Flush();
                Raw(buffer.WrittenSpan);
            }
            finally
            {
                buffer.ResetWrittenCount();
            }
        }

        private void Formatted(bool done, int written)
        {
            if (!done)
            {
                throw new InvalidOperationException("A number did not fit the space reserved for it."); // cannot happen: the sizes above are the types' longest
            }

            _length += written;
        }

        private Span<byte> Reserve(int size)
        {
            if (_buffer.Length - _length < size)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + size));
            }

            return _buffer.AsSpan(_length);
        }
    }
}
