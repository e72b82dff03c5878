namespace OfflineImport;

/// <summary>The <c>OfflineImport</c> section.</summary>
public sealed class ImportOptions
{
    /// <summary>The CSV file of offline orders, relative to the program's folder. The default value is <c>offline-orders.csv</c>.</summary>
    public string File { get; set; } = "offline-orders.csv";

    /// <summary>
    /// The CRM's export of lead stage changes (<c>lead_id,stage,time,email,phone</c>), relative to the program's folder;
    /// empty: none is imported. The default value is <c>crm-stages.csv</c>.
    /// </summary>
    public string? CrmFile { get; set; } = "crm-stages.csv";

    /// <summary>The CRM's name, sent as <c>lead_event_source</c> (HubSpot, Salesforce...). The default value is <c>SampleCRM</c>.</summary>
    public string CrmName { get; set; } = "SampleCRM";
}
