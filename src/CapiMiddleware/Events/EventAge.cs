namespace CapiMiddleware.Events;

/// <summary>Meta's limit on how old an event may be when it arrives: the one place it is written down.</summary>
internal static class EventAge
{
    /// <summary>Meta accepts events up to 7 days old.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    /// <summary>Meta accepts <c>physical_store</c> events up to 62 days old.</summary>
    public static readonly TimeSpan MaxAgePhysicalStore = TimeSpan.FromDays(62);

    /// <summary>The oldest an event with this <c>action_source</c> (wire name) may be when Meta receives it.</summary>
    public static TimeSpan MaxAgeOf(string actionSource) =>
        actionSource == "physical_store" ? MaxAgePhysicalStore : MaxAge;
}
