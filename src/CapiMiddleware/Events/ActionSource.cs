namespace CapiMiddleware;

/// <summary>
/// Where a conversion happened, as Meta's <c>action_source</c> field names it.
/// </summary>
public enum ActionSource
{
    /// <summary>On a website (<c>website</c>). Meta then requires a user agent and an event source URL.</summary>
    Website,

    /// <summary>
    /// In a mobile app (<c>app</c>). Meta requires <c>app_data</c> for these: <see cref="ConversionEvent.AppData"/>
    /// with <see cref="AppData.AdvertiserTrackingEnabled"/> and <see cref="AppData.ExtendedDeviceInfo"/> (its version
    /// <c>a2</c> or <c>i2</c> and its OS version); an event without them is refused before it is queued.
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
    /// Through business messaging (<c>business_messaging</c>): WhatsApp, Messenger or Instagram Direct. Meta requires
    /// <see cref="ConversionEvent.MessagingChannel"/> and the channel's IDs in <see cref="UserData"/> (WhatsApp:
    /// business account ID and click-to-WhatsApp click ID; Messenger: Page ID and Page-scoped user ID; Instagram:
    /// business account ID and Instagram-scoped user ID); an event without them is refused before it is queued. Needs
    /// no user agent or page URL. Meta does not deduplicate these events.
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
