using System.Globalization;
using CapiMiddleware;

namespace OfflineImport;

/// <summary>
/// One row of the export: <c>order_id,time,email,phone,value,currency,action_source</c>. <c>time</c> is an ISO 8601
/// timestamp, as a till or CRM exports it, or an age such as <c>-2h</c> or <c>-40d</c> (the shipped file uses ages, so
/// it is never too old to send).
/// </summary>
public sealed record OfflineOrder(string OrderId, DateTimeOffset Time, string? Email, string? Phone, decimal Value, string Currency, ActionSource Source)
{
    public static readonly string Header = "order_id,time,email,phone,value,currency,action_source";

    private static readonly Dictionary<string, ActionSource> Sources = new(StringComparer.Ordinal)
    {
        ["physical_store"] = ActionSource.PhysicalStore,
        ["phone_call"] = ActionSource.PhoneCall,
        ["email"] = ActionSource.Email,
        ["chat"] = ActionSource.Chat,
        ["system_generated"] = ActionSource.SystemGenerated,
        ["other"] = ActionSource.Other,
        ["website"] = ActionSource.Website,
    };

    /// <summary>Reads one line, or says what is wrong with it (without repeating its personal data).</summary>
    public static OfflineOrder? TryParse(string line, DateTimeOffset now, out string? problem)
    {
        problem = null;
        var fields = line.Split(',');
        if (fields.Length != 7)
        {
            problem = $"expected 7 fields ({Header}), found {fields.Length}";
            return null;
        }

        var orderId = fields[0].Trim();
        if (orderId.Length == 0)
        {
            problem = "the order ID is empty";
            return null;
        }

        if (!TryParseTime(fields[1].Trim(), now, out var time))
        {
            problem = $"the time '{fields[1].Trim()}' is neither an ISO 8601 timestamp nor an age such as -2h or -3d";
            return null;
        }

        if (!decimal.TryParse(fields[4].Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            problem = $"the value '{fields[4].Trim()}' is not an amount such as 59.90";
            return null;
        }

        if (!Sources.TryGetValue(fields[6].Trim(), out var source))
        {
            problem = $"the action source '{fields[6].Trim()}' is not one of {string.Join(", ", Sources.Keys)}";
            return null;
        }

        return new OfflineOrder(orderId, time, NullIfEmpty(fields[2]), NullIfEmpty(fields[3]), value, fields[5].Trim(), source);
    }

    /// <summary>The conversion Meta is told about: a Purchase whose event ID is the order number.</summary>
    public ConversionEvent ToConversionEvent() => new(MetaEventNames.Purchase)
    {
        EventId = OrderId,
        EventTime = Time,
        ActionSource = Source,
        UserData = new UserData { Email = Email, Phone = Phone },
        CustomData = new CustomData { Value = Value, Currency = Currency, OrderId = OrderId },
    };

    /// <summary>An ISO 8601 timestamp, or an age such as <c>-2h</c>, <c>-40d</c> or <c>-30m</c> before <paramref name="now"/>.</summary>
    internal static bool TryParseTime(string text, DateTimeOffset now, out DateTimeOffset time)
    {
        if (text.Length >= 3 && text[0] == '-' && int.TryParse(text.AsSpan(1, text.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            TimeSpan? age = text[^1] switch
            {
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            time = age is { } a ? now - a : default;
            return age is not null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }

    internal static string? NullIfEmpty(string field) => string.IsNullOrWhiteSpace(field) ? null : field.Trim();
}
