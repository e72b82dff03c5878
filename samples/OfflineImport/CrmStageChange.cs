using CapiMiddleware;

namespace OfflineImport;

/// <summary>
/// One row of a CRM's export of lead stage changes, for Meta's Conversion Leads optimization:
/// <c>lead_id,stage,time,email,phone</c>. <c>lead_id</c> is the Lead Ads form's <c>leadgen_id</c> (15 to 17 digits),
/// <c>stage</c> the CRM's name for the stage the lead reached (the event name: <c>Lead</c> for the raw lead,
/// <c>Qualified</c>, <c>Converted</c>...), <c>time</c> when the CRM recorded it (ISO 8601 or an age such as <c>-3d</c>).
/// </summary>
public sealed record CrmStageChange(string LeadId, string Stage, DateTimeOffset Time, string? Email, string? Phone)
{
    public static readonly string Header = "lead_id,stage,time,email,phone";

    /// <summary>Reads one line, or says what is wrong with it (without repeating its personal data).</summary>
    public static CrmStageChange? TryParse(string line, DateTimeOffset now, out string? problem)
    {
        problem = null;
        var fields = line.Split(',');
        if (fields.Length != 5)
        {
            problem = $"expected 5 fields ({Header}), found {fields.Length}";
            return null;
        }

        var leadId = fields[0].Trim();
        if (leadId.Length is < 15 or > 17 || !leadId.All(char.IsAsciiDigit))
        {
            problem = $"the lead ID '{leadId}' is not the 15 to 17 digits of a Lead Ads lead (its leadgen_id); Meta rejects the event";
            return null;
        }

        var stage = fields[1].Trim();
        if (stage.Length == 0)
        {
            problem = "the stage is empty";
            return null;
        }

        if (!OfflineOrder.TryParseTime(fields[2].Trim(), now, out var time))
        {
            problem = $"the time '{fields[2].Trim()}' is neither an ISO 8601 timestamp nor an age such as -2h or -3d";
            return null;
        }

        return new CrmStageChange(leadId, stage, time, OfflineOrder.NullIfEmpty(fields[3]), OfflineOrder.NullIfEmpty(fields[4]));
    }

    /// <summary>
    /// The event Meta is told about: the stage as the event name, <c>system_generated</c>, the lead ID (sent as it is,
    /// never hashed) with any email or phone, and the two custom fields without which Meta does not count it as a
    /// Conversion Leads event: <c>event_source</c> <c>crm</c> and <c>lead_event_source</c>, the CRM's name. Its event ID
    /// is the lead and the stage, so importing the same export twice sends each change once.
    /// </summary>
    public ConversionEvent ToConversionEvent(string crmName) => new(Stage)
    {
        EventId = $"{LeadId}:{Stage}",
        EventTime = Time,
        ActionSource = ActionSource.SystemGenerated,
        UserData = new UserData { LeadId = LeadId, Email = Email, Phone = Phone },
        CustomData = new CustomData
        {
            Properties = { ["event_source"] = "crm", ["lead_event_source"] = crmName },
        },
    };
}
