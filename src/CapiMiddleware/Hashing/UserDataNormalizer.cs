using System.Globalization;

namespace CapiMiddleware.Hashing;

/// <summary>
/// Normalizes <c>user_data</c> values before hashing, with the rules of Meta's Parameter Builder
/// (<c>capi-param-builder</c>): for any input it yields the same string as the reference does, so the
/// same hash reaches Meta whichever side of the site hashed it.
/// </summary>
internal static class UserDataNormalizer
{
    /// <summary>Longer values are dropped unread, so a hostile form field costs nothing.</summary>
    public const int MaxInputLength = 1000;

    private const int LongestGenderWord = 10; // "girlfriend"
    private const int NumberCap = 1_000_000; // above every bound a date part is compared with

    /// <summary>
    /// The normalized value, or null when it normalizes to nothing or is not valid for the field.
    /// A value that is already a SHA-256 or MD5 hex digest comes back as <see cref="UserDataHasher.PassThrough"/> says.
    /// </summary>
    public static string? Normalize(UserDataField field, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxInputLength)
        {
            return null;
        }

        if (UserDataHasher.TryGetDigest(value, out var digest, out var builderSuffix))
        {
            return UserDataHasher.PassThrough(value, digest, builderSuffix);
        }

        Span<char> buffer = stackalloc char[value.Length * 2];
        int length = NormalizeUnhashed(field, value, buffer);
        return length == 0 ? null : new string(buffer[..length]);
    }

    /// <summary>
    /// Writes the normalized form of a value that is not a digest into <paramref name="destination"/>
    /// (at least twice the value's length) and returns its length; 0 when nothing is left.
    /// </summary>
    internal static int NormalizeUnhashed(UserDataField field, ReadOnlySpan<char> value, Span<char> destination) => field switch
    {
        UserDataField.Email => Email(value, destination),
        UserDataField.Phone => Phone(value, destination),
        UserDataField.FirstName or UserDataField.LastName =>
            JavaScriptText.ToLower(value, destination, TextRemoval.WhiteSpaceAndAsciiPunctuation),
        UserDataField.Gender => Gender(value, destination),
        UserDataField.DateOfBirth => DateOfBirth(value, destination),
        UserDataField.City => City(value, destination),
        UserDataField.State => Region(value, destination, country: false),
        UserDataField.Zip => Zip(value, destination),
        UserDataField.Country => Region(value, destination, country: true),
        UserDataField.ExternalId => JavaScriptText.ToLower(value, destination, TextRemoval.WhiteSpace),
        _ => 0,
    };

    private static int Email(ReadOnlySpan<char> value, Span<char> destination)
    {
        var trimmed = JavaScriptText.Trim(value);
        for (int i = 0; i < trimmed.Length; i++)
        {
            char c = trimmed[i];
            if (c == '\u212A')
            {
                c = 'k'; // Kelvin sign: the only non-ASCII character whose lowercase is plain ASCII
            }
            else if (c >= 0x80)
            {
                return 0; // its lowercase is not ASCII, and the address pattern is ASCII only
            }

            destination[i] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
        }

        return IsEmailAddress(destination[..trimmed.Length]) ? trimmed.Length : 0;
    }

    // The reference's pattern: atoms joined by "." (or ":." — its "(:?" is a typo for "(?:", kept
    // for identical results), "@", then two or more dot-separated hostname labels.
    private static bool IsEmailAddress(ReadOnlySpan<char> address)
    {
        int at = address.IndexOf('@');
        if (at <= 0)
        {
            return false;
        }

        var local = address[..at];
        int i = 0;
        while (true)
        {
            int atomStart = i;
            while (i < local.Length && IsAtomCharacter(local[i]))
            {
                i++;
            }

            if (i == atomStart)
            {
                return false;
            }

            if (i == local.Length)
            {
                break;
            }

            if (local[i] == ':')
            {
                i++;
            }

            if (i == local.Length || local[i] != '.')
            {
                return false;
            }

            i++;
        }

        var domain = address[(at + 1)..];
        int labels = 0;
        foreach (var range in domain.Split('.'))
        {
            if (!IsHostLabel(domain[range]))
            {
                return false;
            }

            labels++;
        }

        return labels >= 2;
    }

    private static bool IsAtomCharacter(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '_' or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+'
            or '/' or '=' or '?' or '^' or '`' or '{' or '|' or '}' or '~' or '-';

    private static bool IsHostLabel(ReadOnlySpan<char> label)
    {
        if (label.IsEmpty || label[0] == '-' || label[^1] == '-')
        {
            return false;
        }

        foreach (char c in label)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    private static int Phone(ReadOnlySpan<char> value, Span<char> destination)
    {
        // ASCII digits only (full-width digits are dropped, not converted), leading zeros dropped.
        int written = 0;
        foreach (char c in value)
        {
            if (char.IsAsciiDigit(c) && (written > 0 || c != '0'))
            {
                destination[written++] = c;
            }
        }

        return written;
    }

    private static int Gender(ReadOnlySpan<char> value, Span<char> destination)
    {
        var trimmed = JavaScriptText.Trim(value);
        if (trimmed.IsEmpty || trimmed.Length > LongestGenderWord)
        {
            return 0;
        }

        Span<char> lower = stackalloc char[LongestGenderWord * 2];
        char? gender = lower[..JavaScriptText.ToLower(trimmed, lower, TextRemoval.None)] switch
        {
            "man" or "male" or "boy" or "gentleman" or "guy" or "sir" or "mister" or "mr" or "son" or "father"
                or "dad" or "daddy" or "papa" or "uncle" or "nephew" or "brother" or "husband" or "boyfriend"
                or "groom" or "widower" or "king" or "prince" or "duke" or "count" or "emperor" or "god"
                or "lord" or "lad" or "fellow" or "chap" or "bloke" or "dude" or "he" or "him" or "his"
                or "himself" or "m" => 'm',
            "woman" or "female" or "girl" or "lady" or "miss" or "ms" or "mrs" or "madam" or "ma'am"
                or "daughter" or "mother" or "mom" or "mama" or "mommy" or "aunt" or "niece" or "sister"
                or "wife" or "girlfriend" or "bride" or "widow" or "queen" or "princess" or "duchess"
                or "countess" or "empress" or "goddess" or "maiden" or "lass" or "gal" or "chick" or "dame"
                or "belle" or "she" or "her" or "hers" or "herself" or "f" => 'f',
            _ => null,
        };

        if (gender is not { } g)
        {
            return 0;
        }

        destination[0] = g;
        return 1;
    }

    // The first three runs of ASCII digits, read as year/month/day in whichever order fits
    // (month first when ambiguous); or a single run of exactly eight digits, taken as it is.
    private static int DateOfBirth(ReadOnlySpan<char> value, Span<char> destination)
    {
        int runs = 0;
        int firstRunStart = 0;
        int firstRunLength = 0;
        int n1 = 0, n2 = 0, n3 = 0;
        int i = 0;
        while (i < value.Length)
        {
            if (!char.IsAsciiDigit(value[i]))
            {
                i++;
                continue;
            }

            int start = i;
            int number = 0;
            while (i < value.Length && char.IsAsciiDigit(value[i]))
            {
                number = Math.Min(number * 10 + (value[i] - '0'), NumberCap);
                i++;
            }

            switch (++runs)
            {
                case 1:
                    n1 = number;
                    firstRunStart = start;
                    firstRunLength = i - start;
                    break;
                case 2:
                    n2 = number;
                    break;
                case 3:
                    n3 = number;
                    break;
            }
        }

        if (runs >= 3 && TryWriteDate(n1, n2, n3, destination))
        {
            return 8;
        }

        if (runs == 1 && firstRunLength == 8)
        {
            value.Slice(firstRunStart, 8).CopyTo(destination);
            return 8;
        }

        return 0;
    }

    private static bool TryWriteDate(int n1, int n2, int n3, Span<char> destination)
    {
        int year, month, day;
        if (n1 > 31)
        {
            year = n1;
            (month, day) = n2 > 12 ? (n3, n2) : (n2, n3);
        }
        else if (n2 > 31)
        {
            year = n2;
            (month, day) = n3 > 12 ? (n1, n3) : (n3, n1);
        }
        else
        {
            year = n3;
            (month, day) = n1 > 12 ? (n2, n1) : (n1, n2);
        }

        // The reference accepts years up to next year by the local clock, days 1-31 in any month.
        if (year < 1800 || year > DateTime.Now.Year + 1 || month is < 1 or > 12 || day is < 1 or > 31)
        {
            return false;
        }

        year.TryFormat(destination, out _, "D4", CultureInfo.InvariantCulture);
        month.TryFormat(destination[4..], out _, "D2", CultureInfo.InvariantCulture);
        day.TryFormat(destination[6..], out _, "D2", CultureInfo.InvariantCulture);
        return true;
    }

    private static int City(ReadOnlySpan<char> value, Span<char> destination)
    {
        int written = 0;
        foreach (char c in value)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                destination[written++] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
            }
        }

        return written > 0 && char.IsAsciiLetterLower(destination[0]) ? written : 0;
    }

    // Lowercase letters a-z only, then: two letters are a code already; a known name (or a value
    // containing one) gives its code; anything else keeps its first two letters.
    private static int Region(ReadOnlySpan<char> value, Span<char> destination, bool country)
    {
        int letters = 0;
        foreach (char c in value)
        {
            char letter = c switch
            {
                >= 'a' and <= 'z' => c,
                >= 'A' and <= 'Z' => (char)(c | 0x20),
                '\u212A' => 'k', // Kelvin sign lowercases to "k"
                '\u0130' => 'i', // "İ" lowercases to "i" + a combining dot, which is then dropped
                _ => '\0',
            };

            if (letter != '\0')
            {
                destination[letters++] = letter;
            }
        }

        if (letters <= 2)
        {
            return letters;
        }

        var found = destination[..letters];
        if ((country ? RegionNames.FindCountryCode(found) : RegionNames.FindStateCode(found)) is { } code)
        {
            code.CopyTo(destination);
            return code.Length;
        }

        return 2;
    }

    private static int Zip(ReadOnlySpan<char> value, Span<char> destination)
    {
        // The part before the first "-", trimmed; at least two UTF-16 code units after lowercasing.
        int dash = value.IndexOf('-');
        var head = JavaScriptText.Trim(dash < 0 ? value : value[..dash]);
        int length = JavaScriptText.ToLower(head, destination, TextRemoval.None);
        return length >= 2 ? length : 0;
    }
}
