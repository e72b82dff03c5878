using System.Text;
using System.Text.Json;
using CapiMiddleware.Events;

namespace CapiMiddleware.Tests.Events;

/// <summary>
/// The hand-written wire writer against System.Text.Json's source-generated serialization of the same
/// <see cref="GraphEvent"/>: byte for byte, on events with every field, with none, and on generated ones.
/// </summary>
public sealed class GraphEventJsonTests
{
    [Fact]
    public void An_event_with_every_field_is_written_as_the_source_generated_serializer_writes_it()
    {
        var graphEvent = new GraphEvent
        {
            EventName = "Purchase <\u00e9>",
            EventTime = 1_750_000_000,
            EventId = "ord-1&2",
            ActionSource = "website",
            EventSourceUrl = "https://shop.example.com/checkout?a=1&b='2'",
            ReferrerUrl = "https://ads.example.com/\u2028",
            OptOut = true,
            UserData = new GraphUserData
            {
                Email = ["a", "b"],
                Phone = ["c"],
                FirstName = ["d"],
                LastName = ["e"],
                Gender = ["f"],
                DateOfBirth = ["g"],
                City = ["h"],
                State = ["i"],
                Zip = ["j"],
                Country = ["k"],
                ExternalId = ["l", "m"],
                ClientIpAddress = "2001:db8::1",
                ClientUserAgent = "Mozilla/5.0 (\"quoted\") \ud83d\ude00",
                ClickId = "fb.1.1700000000000.AbC",
                BrowserId = "fb.1.1700000000000.123",
            },
            CustomData = new GraphCustomData
            {
                Value = 1234.5600m,
                Currency = "EUR",
                OrderId = "ord-1",
                ContentIds = ["sku-1", "sku-2"],
                Contents = [new GraphContent("sku-1", 2, 10.5m), new GraphContent("sku-2", 1, null)],
                ContentType = "product",
                ContentName = "Cup",
                ContentCategory = "Kitchen",
                NumItems = 3,
                SearchString = "cups",
                Status = "paid",
                Properties = new(StringComparer.Ordinal)
                {
                    ["note"] = GraphJsonContext.ToElement("\u2028\"'&<>+"),
                    ["count"] = GraphJsonContext.ToElement(7),
                    ["ratio"] = GraphJsonContext.ToElement(0.25),
                    ["flag"] = GraphJsonContext.ToElement(false),
                    ["tags"] = GraphJsonContext.ToElement(new[] { "x", "y" }),
                    ["nothing"] = GraphJsonContext.ToElement(null),
                    ["kéy <1>"] = GraphJsonContext.ToElement("v"),
                },
            },
        };

        AssertSameAsSourceGenerated(graphEvent);
    }

    [Fact]
    public void An_event_with_only_the_required_fields_is_written_as_the_source_generated_serializer_writes_it()
    {
        AssertSameAsSourceGenerated(new GraphEvent
        {
            EventName = "Lead",
            EventTime = 0,
            EventId = "x",
            ActionSource = "phone_call",
            UserData = new GraphUserData(),
        });
        AssertSameAsSourceGenerated(new GraphEvent
        {
            EventName = "Lead",
            EventTime = -1,
            EventId = "",
            ActionSource = "email",
            OptOut = false,
            UserData = new GraphUserData { Email = [] },
            CustomData = new GraphCustomData { ContentIds = [], Contents = [], Properties = new() },
        });
    }

    [Fact]
    public void Ten_thousand_generated_purchases_are_written_as_the_source_generated_serializer_writes_them()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);
        var random = new Random(6);
        for (var i = 0; i < 10_000; i++)
        {
            var conversion = new ConversionEvent(MetaEventNames.Purchase)
            {
                EventTime = now,
                DataProcessingOptions = (i % 4) switch
                {
                    0 => null,
                    1 => DataProcessingOptions.None,
                    2 => DataProcessingOptions.LimitedDataUse(0, 0),
                    _ => DataProcessingOptions.LimitedDataUse(1, 1000),
                },
                EventSourceUrl = $"https://shop.example.com/checkout?order={i}&q={Text(random)}",
                ReferrerUrl = random.Next(2) == 0 ? null : "https://example.com/" + Text(random),
                UserData = new UserData
                {
                    Email = $"{Text(random)}@example.com",
                    Phone = random.Next(3) == 0 ? null : $"+1 650 555 {i:0000}",
                    FirstName = Text(random),
                    City = Text(random),
                    ClientUserAgent = "Mozilla/5.0 " + Text(random),
                    ClientIpAddress = $"203.0.113.{i % 250 + 1}",
                },
                CustomData = new CustomData
                {
                    Value = random.Next(1, 100_000) / 100m,
                    Currency = "usd",
                    OrderId = $"order-{i}",
                    ContentName = random.Next(2) == 0 ? null : Text(random),
                },
            };
            conversion.CustomData.Contents.Add(new Content($"sku-{i % 7}", 1 + (i % 3), i % 5 == 0 ? null : i / 7m));
            conversion.CustomData.Properties["extra"] = random.Next(2) == 0 ? Text(random) : i;

            var graphEvent = GraphEventWriter.TryCreate(conversion, $"order-{i}", now, out var problem);
            Assert.True(graphEvent is not null, problem);
            AssertSameAsSourceGenerated(graphEvent);
        }
    }

    [Theory]
    [InlineData("\ud800 a lone high surrogate")]
    [InlineData("a lone low surrogate \udc00")]
    [InlineData("controls \u0000\u0001\u001f\u007f\t\r\n and a backslash \\")]
    [InlineData("`backtick` +plus+ %25 \u00a0 \uffff")]
    [InlineData("")]
    public void Strings_that_need_escaping_or_cannot_be_transcoded_are_written_as_the_source_generated_serializer_writes_them(string text)
    {
        AssertSameAsSourceGenerated(new GraphEvent
        {
            EventName = text,
            EventTime = long.MinValue,
            EventId = text,
            ActionSource = "website",
            EventSourceUrl = text,
            UserData = new GraphUserData { ClientUserAgent = text, Email = [text, "ABCDEF0123"] },
            CustomData = new GraphCustomData
            {
                Value = decimal.MinValue,
                OrderId = text,
                ContentIds = [text],
                Contents = [new GraphContent(text, int.MinValue, decimal.MaxValue), new GraphContent(text, 0, -0.0001m)],
                NumItems = int.MaxValue,
                Properties = new(StringComparer.Ordinal) { [text] = GraphJsonContext.ToElement(text) },
            },
        });
    }

    [Fact]
    public void An_event_larger_than_the_kept_buffer_is_written_whole_and_the_next_one_after_it_too()
    {
        var large = new GraphEvent
        {
            EventName = "Purchase",
            EventTime = 1,
            EventId = "big",
            ActionSource = "website",
            EventSourceUrl = "https://shop.example.com/?q=" + new string('x', 40_000),
            UserData = new GraphUserData { ClientUserAgent = new string('\u00e9', 10_000) },
        };
        var small = new GraphEvent { EventName = "Lead", EventTime = 2, EventId = "small", ActionSource = "website", UserData = new GraphUserData() };

        AssertSameAsSourceGenerated(large);
        AssertSameAsSourceGenerated(small);
        AssertSameAsSourceGenerated(large);
    }

    private static void AssertSameAsSourceGenerated(GraphEvent graphEvent)
    {
        var expected = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(graphEvent, GraphJsonContext.Default.GraphEvent));
        Assert.Equal(expected, Encoding.UTF8.GetString(GraphEventJson.Serialize(graphEvent)));
    }

    private static string Text(Random random)
    {
        const string Alphabet = "abcXYZ019 -_.+&<>'\"\\/é中\u2028\ud83d\ude00";
        var chars = new StringBuilder();
        for (var n = random.Next(1, 12); n > 0; n--)
        {
            var c = Alphabet[random.Next(Alphabet.Length)];
            chars.Append(c);
            if (char.IsHighSurrogate(c))
            {
                chars.Append('\ude00');
            }
            else if (char.IsLowSurrogate(c))
            {
                chars.Length--;
            }
        }

        return chars.ToString();
    }
}
