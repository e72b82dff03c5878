namespace CapiMiddleware.Hashing;

/// <summary>
/// The single-value <c>user_data</c> fields that Meta's SDKs send beside the personal ones: name and birth-date parts,
/// hashed as the SDKs hash them (trimmed, lowercased, then each its own rule; Node SDK 24.0.1 and Python SDK 25.0.2
/// agree), and the identifiers sent unhashed. A value that is invalid for its field gives <see langword="null"/>: the
/// field is dropped, never the event (the SDKs throw instead).
/// </summary>
internal static class UserDataParts
{
    // Meta's IDs (Page, Instagram, WhatsApp, Facebook Login) are numbers; this is well above the longest of them.
    private const int LongestNumericId = 32;

    /// <summary><c>f5first</c>/<c>f5last</c>: the first five characters of the name, hashed.</summary>
    public static string? FirstFive(string? name) => Hash(name, static lower => lower[..Math.Min(5, lower.Length)]);

    /// <summary><c>fi</c>: the first character of the first name, hashed.</summary>
    public static string? Initial(string? firstName) => Hash(firstName, static lower => lower[..1]);

    /// <summary><c>dobd</c>: a day of the month, 1 to 31, as two digits, hashed.</summary>
    public static string? Day(string? day) => Hash(day, static lower => TwoDigits(lower, 31));

    /// <summary><c>dobm</c>: a month, 1 to 12, as two digits, hashed.</summary>
    public static string? Month(string? month) => Hash(month, static lower => TwoDigits(lower, 12));

    /// <summary><c>doby</c>: a year of four digits, hashed.</summary>
    public static string? Year(string? year) =>
        Hash(year, static lower => lower.Length == 4 && !lower.ContainsAnyExceptInRange('0', '9') ? lower : default);

    /// <summary><c>app_user_id</c> (Node SDK only): trimmed, lowercased, hashed.</summary>
    public static string? AppUserId(string? id) => Hash(id, static lower => lower);

    /// <summary><c>lead_id</c>: the Lead Ads lead's ID, 15 to 17 digits (Meta refuses the event for any other), unhashed.</summary>
    public static string? LeadId(string? id) => Digits(id, 15, 17);

    /// <summary>A numeric Meta ID (Page, Page-scoped user, Instagram, WhatsApp Business, Facebook Login), unhashed.</summary>
    public static string? NumericId(string? id) => Digits(id, 1, LongestNumericId);

    /// <summary>An identifier Meta takes as it is (subscription, advertising, install, click-to-WhatsApp click), trimmed.</summary>
    public static string? Identifier(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > UserDataNormalizer.MaxInputLength)
        {
            return null;
        }

        var trimmed = JavaScriptText.Trim(id);
        return trimmed.IsEmpty ? null : trimmed.Length == id.Length ? id : new string(trimmed);
    }

    private static string? Digits(string? id, int minLength, int maxLength)
    {
        if (string.IsNullOrEmpty(id) || id.Length > UserDataNormalizer.MaxInputLength)
        {
            return null;
        }

        var trimmed = JavaScriptText.Trim(id);
        return trimmed.Length < minLength || trimmed.Length > maxLength || trimmed.ContainsAnyExceptInRange('0', '9')
            ? null
            : trimmed.Length == id.Length ? id : new string(trimmed);
    }

    /// <summary>The SDKs' order: trim and lowercase; a 64- or 32-hex digest passes through; else the rule, then SHA-256.</summary>
    private static string? Hash(string? value, Rule rule)
    {
        if (string.IsNullOrEmpty(value) || value.Length > UserDataNormalizer.MaxInputLength)
        {
            return null;
        }

        if (UserDataHasher.TryGetDigest(value, out var digest, out var builderSuffix))
        {
            return UserDataHasher.PassThrough(value, digest, builderSuffix);
        }

        var trimmed = JavaScriptText.Trim(value);
        Span<char> lower = stackalloc char[trimmed.Length * 2];
        var length = JavaScriptText.ToLower(trimmed, lower, TextRemoval.None);
        if (length == 0)
        {
            return null;
        }

        var normalized = rule(lower[..length]);
        return normalized.IsEmpty ? null : UserDataHasher.Sha256Hex(normalized);
    }

    /// <summary>One or two digits from 1 to <paramref name="max"/>, padded to two; empty when not.</summary>
    private static ReadOnlySpan<char> TwoDigits(Span<char> lower, int max)
    {
        if (lower.Length is not (1 or 2) || lower.ContainsAnyExceptInRange('0', '9'))
        {
            return default;
        }

        var number = lower.Length == 1 ? lower[0] - '0' : ((lower[0] - '0') * 10) + (lower[1] - '0');
        if (number < 1 || number > max)
        {
            return default;
        }

        return lower.Length == 2 ? lower : string.Concat("0", lower);
    }

    private delegate ReadOnlySpan<char> Rule(Span<char> lower);
}
