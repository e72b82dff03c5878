namespace CapiMiddleware.Diagnostics;

/// <summary>The band of an estimated match quality, named as Meta's Events Manager names Event Match Quality.</summary>
internal enum MatchBand
{
    Poor,
    Ok,
    Good,
    Great,
}

/// <summary>
/// An estimate of how well Meta can match an event to a person: which identifiers it carries, a score from 0 to 10
/// and a band. Built from Meta's published guidance (email strongest, then phone, click ID, external ID, browser ID,
/// IP address, user agent); it is not Meta's own Event Match Quality, which only Events Manager shows.
/// </summary>
internal sealed record MatchQuality(IReadOnlyList<string> Identifiers, double Score, MatchBand Band, IReadOnlyList<string> Missing)
{
    // Wire name, weight, and what to tell a site owner who lacks it. The weights add up to 10.
    private static readonly (string Field, double Weight, string Hint)[] Weights =
    [
        ("em", 3.0, "email"),
        ("ph", 2.0, "phone"),
        ("fbc", 1.5, "click ID (fbclid)"),
        ("external_id", 1.0, "external ID"),
        ("fbp", 0.75, "browser ID (_fbp)"),
        ("client_ip_address", 0.5, "IP address"),
        ("client_user_agent", 0.25, "user agent"),
        ("fn", 0.25, "first name"),
        ("ln", 0.25, "last name"),
        ("ct", 0.1, "city"),
        ("st", 0.05, "state"),
        ("zp", 0.1, "zip"),
        ("country", 0.05, "country"),
        ("db", 0.1, "date of birth"),
        ("ge", 0.1, "gender"),
    ];

    /// <summary>Estimates from the wire names of the identifiers an event carries.</summary>
    public static MatchQuality Estimate(Func<string, bool> has)
    {
        var identifiers = new List<string>(Weights.Length);
        var missing = new List<string>(3);
        var score = 0.0;
        foreach (var (field, weight, hint) in Weights)
        {
            if (has(field))
            {
                identifiers.Add(field);
                score += weight;
            }
            else if (weight >= 1.0)
            {
                missing.Add(hint);
            }
        }

        score = Math.Round(Math.Min(score, 10), 1);
        var band = score switch
        {
            >= 8 => MatchBand.Great,
            >= 6 => MatchBand.Good,
            >= 4 => MatchBand.Ok,
            _ => MatchBand.Poor,
        };
        return new MatchQuality(identifiers, score, band, missing);
    }

    /// <summary>Whether the event has none of the three identifiers that matter most for attribution.</summary>
    public bool LacksStrongIdentifiers => !Identifiers.Contains("em") && !Identifiers.Contains("ph") && !Identifiers.Contains("fbc");

    /// <summary>One line for logs and the console: <c>Good (6.8/10): em ph fbp …; missing: click ID</c>.</summary>
    public override string ToString() =>
        $"{Band} ({Score:0.0}/10): {(Identifiers.Count == 0 ? "no identifiers" : string.Join(' ', Identifiers))}" +
        (Missing.Count == 0 ? "" : "; missing: " + string.Join(", ", Missing));
}

internal static class MatchQualityExtensions
{
    /// <summary>The estimate for an event as it goes on the wire.</summary>
    public static MatchQuality EstimateMatchQuality(this Events.GraphUserData user) => MatchQuality.Estimate(field => field switch
    {
        "em" => user.Email is { Length: > 0 },
        "ph" => user.Phone is { Length: > 0 },
        "fbc" => !string.IsNullOrEmpty(user.ClickId),
        "external_id" => user.ExternalId is { Length: > 0 },
        "fbp" => !string.IsNullOrEmpty(user.BrowserId),
        "client_ip_address" => !string.IsNullOrEmpty(user.ClientIpAddress),
        "client_user_agent" => !string.IsNullOrEmpty(user.ClientUserAgent),
        "fn" => user.FirstName is { Length: > 0 },
        "ln" => user.LastName is { Length: > 0 },
        "ct" => user.City is { Length: > 0 },
        "st" => user.State is { Length: > 0 },
        "zp" => user.Zip is { Length: > 0 },
        "country" => user.Country is { Length: > 0 },
        "db" => user.DateOfBirth is { Length: > 0 },
        "ge" => user.Gender is { Length: > 0 },
        _ => false,
    });
}
