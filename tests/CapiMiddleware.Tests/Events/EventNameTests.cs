using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Tests.Events;

/// <summary>
/// Issue 14, item 8: an event name with control characters, built from input, could forge log lines; Meta refuses such
/// names anyway, so every call that names an event refuses them at once, with a message that says why.
/// </summary>
public sealed class EventNameTests
{
    public static TheoryData<string> Forging => new()
    {
        "Purchase\r\nwarn: CapiMiddleware[1] Queued FakeEvent",
        "Lead\n",
        "Tab\there",
        "Bell\u0007",
        "Line\u2028Separator",
        "Paragraph\u2029Separator",
        "Right\u202Eto-left override",
        "Zero\u200Bwidth",
        "Nul\0",
        "",
        "   ",
    };

    [Theory]
    [MemberData(nameof(Forging))]
    public void Every_call_that_names_an_event_refuses_a_name_meta_would_refuse(string name)
    {
        AssertRefused(() => new ConversionEvent(name));
        AssertRefused(() => new ConversionEvent("Purchase") with { EventName = name });
        AssertRefused(() => new MetaConversionAttribute(name));
        AssertRefused(() => WebApplication.CreateSlimBuilder().Build().MapPost("/x", () => "x").WithMetaConversion(name));
        AssertRefused(() => new DefaultHttpContext().MetaConversion(name));
    }

    [Fact]
    public void A_name_longer_than_100_characters_is_refused()
    {
        AssertRefused(() => new ConversionEvent(new string('a', 101)));
        Assert.Equal(100, new ConversionEvent(new string('a', 100)).EventName.Length);
    }

    [Theory]
    [InlineData("Purchase")]
    [InlineData("Käufe abgeschlossen")]
    [InlineData("注文完了")]
    [InlineData("newsletter_signup-2")]
    public void Names_in_any_script_with_spaces_are_accepted(string name)
    {
        Assert.Equal(name, new ConversionEvent(name).EventName);
        Assert.Equal(name, new MetaConversionAttribute(name).EventName);
    }

    private static void AssertRefused(Func<object> call)
    {
        var error = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Contains("event name", error.Message);
    }
}
