namespace CapiMiddleware;

/// <summary>
/// Where a conversion happened, as Meta's <c>action_source</c> field names it.
/// </summary>
public enum ActionSource
{
    /// <summary>On a website (<c>website</c>). Meta then requires a user agent and an event source URL.</summary>
    Website,

    /// <summary>
    /// In a mobile app (<c>app</c>). Meta requires <c>app_data</c> (tracking consent, device details) for these, which
    /// <see cref="ConversionEvent"/> cannot carry yet, so such events are refused before they are queued.
    /// </summary>
    App,

    /// <summary>Through email (<c>email</c>).</summary>
    Email,

    /// <summary>Over the phone (<c>phone_call</c>).</summary>
    PhoneCall,

    /// <summary>Through a messaging or chat app (<c>chat</c>).</summary>
    Chat,

    /// <summary>In person, in a store (<c>physical_store</c>). Meta accepts these up to 62 days late.</summary>
    PhysicalStore,

    /// <summary>Automatically, such as a subscription renewal (<c>system_generated</c>).</summary>
    SystemGenerated,

    /// <summary>
    /// Through business messaging (<c>business_messaging</c>). Meta requires <c>messaging_channel</c> and the
    /// conversation's IDs for these, which <see cref="ConversionEvent"/> cannot carry yet, so such events are refused
    /// before they are queued.
    /// </summary>
    BusinessMessaging,

    /// <summary>Anywhere else (<c>other</c>).</summary>
    Other,
}

internal static class ActionSourceExtensions
{
    public static string WireName(this ActionSource source) => source switch
    {
        ActionSource.Website => "website",
        ActionSource.App => "app",
        ActionSource.Email => "email",
        ActionSource.PhoneCall => "phone_call",
        ActionSource.Chat => "chat",
        ActionSource.PhysicalStore => "physical_store",
        ActionSource.SystemGenerated => "system_generated",
        ActionSource.BusinessMessaging => "business_messaging",
        _ => "other",
    };
}
