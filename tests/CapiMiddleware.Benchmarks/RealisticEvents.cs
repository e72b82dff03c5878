using CapiMiddleware.Events;

namespace CapiMiddleware.Benchmarks;

/// <summary>
/// Purchases as a shop receives them, raw and a little untidy (case, spaces, punctuation), generated from the index
/// alone. <c>node/meta-sdk-bench.mjs</c> builds the very same values by the same rules, so both sides get the same
/// inputs; change one, change the other.
/// </summary>
internal static class RealisticEvents
{
    public const int Count = 10_000;

    private static readonly string[] FirstNames = ["Mary", "José", "Ana-Lucía", "John", "Chloé", "Wei", "Olga", "Sam"];
    private static readonly string[] LastNames = ["Smith", "García", "O'Neil", "Müller", "Nguyen", "Kowalski", "Dubois", "Lee"];
    private static readonly string[] Cities = ["San Francisco", "New York", "Austin", "Saint-Denis", "Zürich", "Menlo Park"];
    private static readonly string[] States = ["CA", "NY", "TX", "ca", " wa ", "Fl"];
    private static readonly string[] Countries = ["US", "us", "FR", "De", "GB", "US"];

    public static RawPurchase Raw(int i)
    {
        var lines = new RawLine[1 + i % 3];
        var totalCents = 0;
        for (var line = 0; line < lines.Length; line++)
        {
            var priceCents = (5 + (i + line) % 100) * 100 + 99;
            lines[line] = new RawLine($"sku-{(i + line) % 500}", 1 + line, priceCents / 100m);
            totalCents += priceCents * (1 + line);
        }

        return new RawPurchase(
            OrderId: $"order-{i}",
            Url: $"https://shop.example.com/checkout?order={i}",
            Email: $" Customer.{i}@Example.COM ",
            Phone: $"+1 (650) 555-{i % 10_000:0000}",
            FirstName: FirstNames[i % FirstNames.Length],
            LastName: LastNames[i % LastNames.Length],
            City: Cities[i % Cities.Length],
            State: States[i % States.Length],
            Zip: $"{94_000 + i % 1_000:00000}",
            Country: Countries[i % Countries.Length],
            Ip: $"203.0.113.{i % 250 + 1}",
            UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
            Fbc: $"fb.1.1700000000000.IwAR{i}",
            Fbp: $"fb.1.1700000000000.{1_000_000_000 + i}",
            Value: totalCents / 100m,
            Currency: "usd",
            Lines: lines);
    }

    public static RawPurchase[] RawAll()
    {
        var all = new RawPurchase[Count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = Raw(i);
        }

        return all;
    }

    /// <summary>What the shop's code does with the raw values: the public model, nothing normalized yet.</summary>
    public static ConversionEvent ToConversion(RawPurchase raw, DateTimeOffset time)
    {
        var conversion = new ConversionEvent(MetaEventNames.Purchase)
        {
            EventId = raw.OrderId,
            EventTime = time,
            EventSourceUrl = raw.Url,
            UserData = new UserData
            {
                Email = raw.Email,
                Phone = raw.Phone,
                FirstName = raw.FirstName,
                LastName = raw.LastName,
                City = raw.City,
                State = raw.State,
                Zip = raw.Zip,
                Country = raw.Country,
                ClientIpAddress = raw.Ip,
                ClientUserAgent = raw.UserAgent,
                ClickId = raw.Fbc,
                BrowserId = raw.Fbp,
            },
            CustomData = new CustomData { Value = raw.Value, Currency = raw.Currency, OrderId = raw.OrderId },
        };

        foreach (var line in raw.Lines)
        {
            conversion.CustomData.Contents.Add(new Content(line.Sku, line.Quantity, line.Price));
        }

        return conversion;
    }
}

internal sealed record RawLine(string Sku, int Quantity, decimal Price);

internal sealed record RawPurchase(
    string OrderId, string Url, string Email, string Phone, string FirstName, string LastName, string City, string State,
    string Zip, string Country, string Ip, string UserAgent, string Fbc, string Fbp, decimal Value, string Currency,
    RawLine[] Lines);
