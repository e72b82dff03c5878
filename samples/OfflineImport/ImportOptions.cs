namespace OfflineImport;

/// <summary>The <c>OfflineImport</c> section.</summary>
public sealed class ImportOptions
{
    /// <summary>The CSV file of offline orders, relative to the program's folder. The default value is <c>offline-orders.csv</c>.</summary>
    public string File { get; set; } = "offline-orders.csv";
}
