namespace CapiMiddleware;

/// <summary>How a purchase reaches the customer (<c>delivery_category</c>), as Meta names the kinds.</summary>
public enum DeliveryCategory
{
    /// <summary>The customer enters the store to get it (<c>in_store</c>).</summary>
    InStore,

    /// <summary>The customer picks it up from their car at the store (<c>curbside</c>).</summary>
    Curbside,

    /// <summary>It is delivered to the customer's home (<c>home_delivery</c>).</summary>
    HomeDelivery,
}

/// <summary>
/// The channel of a business-messaging conversation (<c>messaging_channel</c>). Meta's documentation shows all three;
/// the Python SDK 25.0.2 (the newest source found; version 26 could not be read) knows only <c>whatsapp</c>, and the
/// Node SDK 24.0.1 takes any string.
/// </summary>
public enum MessagingChannel
{
    /// <summary>WhatsApp (<c>whatsapp</c>): the event needs <see cref="UserData.WhatsAppBusinessAccountId"/> and <see cref="UserData.WhatsAppClickId"/>.</summary>
    WhatsApp,

    /// <summary>Messenger (<c>messenger</c>): the event needs <see cref="UserData.PageId"/> and <see cref="UserData.PageScopedUserId"/>.</summary>
    Messenger,

    /// <summary>Instagram Direct (<c>instagram</c>): the event needs <see cref="UserData.InstagramBusinessAccountId"/> and <see cref="UserData.InstagramScopedUserId"/>.</summary>
    Instagram,
}

/// <summary>The wire strings of the event enums; <see langword="null"/> for a value outside the enum (a cast number), which the writer refuses.</summary>
internal static class EventEnumWireNames
{
    public static string? WireName(this DeliveryCategory category) => category switch
    {
        DeliveryCategory.InStore => "in_store",
        DeliveryCategory.Curbside => "curbside",
        DeliveryCategory.HomeDelivery => "home_delivery",
        _ => null,
    };

    public static string? WireName(this MessagingChannel channel) => channel switch
    {
        MessagingChannel.WhatsApp => "whatsapp",
        MessagingChannel.Messenger => "messenger",
        MessagingChannel.Instagram => "instagram",
        _ => null,
    };
}
