namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>Realistic events for tests that enqueue directly, without a web request.</summary>
public static class SampleEvents
{
    public static ConversionEvent Purchase(string eventId, string? email = "buyer@example.com") => new(MetaEventNames.Purchase)
    {
        EventId = eventId,
        EventSourceUrl = "https://shop.example.com/checkout",
        UserData = new UserData
        {
            Email = email,
            Phone = "+1 (555) 123-4567",
            ClientUserAgent = TestApp.UserAgent,
            ClientIpAddress = "203.0.113.7",
            BrowserId = "fb.1.1700000000000.1234567890",
        },
        CustomData = new CustomData { Value = 42.5m, Currency = "USD", OrderId = eventId },
    };
}
