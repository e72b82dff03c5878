using CapiMiddleware.Hashing;
using Xunit;

namespace CapiMiddleware.Tests.Hashing;

// Every expected value below is what Meta's reference normalizer (npm capi-param-builder-nodejs 1.3.2,
// getNormalizedPII / getNormalizedAndHashedPII) returns for the same input; null where it returns
// null or an empty string.
public class UserDataNormalizerTests
{
    private const string Sha256OfTestEmail = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b";

    [Theory]
    [InlineData("test@example.com", "test@example.com")]
    [InlineData("  Test.User+tag@Example.COM \n", "test.user+tag@example.com")]
    [InlineData("\u212Aate@x.com", "kate@x.com")] // the Kelvin sign lowercases to "k"
    [InlineData("a:.b@x.com", "a:.b@x.com")] // the reference's pattern allows ":." between atoms
    [InlineData("a:b@x.com", null)]
    [InlineData("a@b", null)]
    [InlineData("a..b@x.com", null)]
    [InlineData("josé@x.com", null)]
    [InlineData("İnfo@x.com", null)]
    [InlineData("user@x.com.", null)]
    [InlineData("user@exa_mple.com", null)]
    [InlineData("not an email", null)]
    public void Email(string input, string? expected) => AssertNormalized(UserDataField.Email, input, expected);

    [Theory]
    [InlineData("+1 (555) 123-4567", "15551234567")]
    [InlineData("0044 20 7946 0958", "442079460958")]
    [InlineData("(0)20 7946 0958", "2079460958")]
    [InlineData("+1 555 123 4567 ext. 89", "1555123456789")]
    [InlineData("１２３４５６７８９０", null)] // full-width digits are dropped, not converted
    [InlineData("000", null)]
    [InlineData("abc", null)]
    public void Phone(string input, string? expected) => AssertNormalized(UserDataField.Phone, input, expected);

    [Theory]
    [InlineData("José", "josé")]
    [InlineData("O'Brien", "obrien")]
    [InlineData("O’Brien", "o’brien")] // only ASCII punctuation is removed
    [InlineData("Mary-Jane", "maryjane")]
    [InlineData("Jean–Luc", "jean–luc")]
    [InlineData("Dr. John Smith, Jr.", "drjohnsmithjr")]
    [InlineData("\tAnna\u00A0Lena\n", "annalena")]
    [InlineData("John\u0085Smith", "john\u0085smith")] // U+0085 is not whitespace in JavaScript
    [InlineData("Владимир", "владимир")]
    [InlineData("ΟΔΥΣΣΕΑΣ", "οδυσσεας")] // final sigma
    [InlineData("ΑΣ ΒΣ", "ασβς")] // whitespace is removed before lowercasing, so the first sigma is not final
    [InlineData("İSTANBUL", "i\u0307stanbul")]
    [InlineData("...", null)]
    public void FirstName(string input, string? expected) => AssertNormalized(UserDataField.FirstName, input, expected);

    [Theory]
    [InlineData("Müller-Lüdenscheidt", "müllerlüdenscheidt")]
    [InlineData("ΑΣ\u0301", "ας\u0301")] // a combining mark after a final sigma is skipped
    [InlineData("ΑΣ1", "ας1")]
    public void LastName(string input, string? expected) => AssertNormalized(UserDataField.LastName, input, expected);

    [Theory]
    [InlineData("Male", "m")]
    [InlineData(" FEMALE\t", "f")]
    [InlineData("Mr", "m")]
    [InlineData("M", "m")]
    [InlineData("woman", "f")]
    [InlineData("f", "f")]
    [InlineData("ma'am", "f")]
    [InlineData("\u212Aing", "m")]
    [InlineData("ma’am", null)]
    [InlineData("non-binary", null)]
    [InlineData("HİM", null)] // "İ" lowercases to "i" plus a combining dot
    public void Gender(string input, string? expected) => AssertNormalized(UserDataField.Gender, input, expected);

    [Theory]
    [InlineData("1990-01-15", "19900115")]
    [InlineData("01/15/1990", "19900115")]
    [InlineData("15/01/1990", "19900115")]
    [InlineData("15.01.1990", "19900115")]
    [InlineData("1990/1/5", "19900105")]
    [InlineData("19900115", "19900115")]
    [InlineData("1990-01-15T10:20:30Z", "19900115")]
    [InlineData("01-02-1990", "19900102")] // month first when ambiguous
    [InlineData("1800-01-01", "18000101")]
    [InlineData("02/30/1990", "19900230")] // any day 1-31 is accepted in any month
    [InlineData("99999999", "99999999")] // a lone run of eight digits is taken as it is
    [InlineData("1799-12-31", null)]
    [InlineData("Jan 15, 1990", null)]
    [InlineData("01/15/90", null)]
    [InlineData("1990 13 13", null)]
    [InlineData("１９９０-０１-１５", null)]
    public void DateOfBirth(string input, string? expected) => AssertNormalized(UserDataField.DateOfBirth, input, expected);

    [Fact]
    public void DateOfBirth_AcceptsYearsUpToNextYear()
    {
        int nextYear = DateTime.Now.Year + 1;
        Assert.Equal($"{nextYear}0615", UserDataNormalizer.Normalize(UserDataField.DateOfBirth, $"{nextYear}-06-15"));
        Assert.Null(UserDataNormalizer.Normalize(UserDataField.DateOfBirth, $"{nextYear + 1}-06-15"));
    }

    [Theory]
    [InlineData("San Francisco", "sanfrancisco")]
    [InlineData("São Paulo", "sopaulo")]
    [InlineData("St. Louis", "stlouis")]
    [InlineData("Winston-Salem", "winstonsalem")]
    [InlineData("123 Main", null)]
    [InlineData("Москва", null)]
    public void City(string input, string? expected) => AssertNormalized(UserDataField.City, input, expected);

    [Theory]
    [InlineData("California", "ca")]
    [InlineData("NY", "ny")]
    [InlineData("N.Y.", "ny")]
    [InlineData("New York State", "ny")]
    [InlineData("British Columbia", "bc")]
    [InlineData("West Virginia", "wv")]
    [InlineData("West Virginia State", "va")] // the first name contained wins, and "virginia" comes first
    [InlineData("Baja California", "ca")]
    [InlineData("İllinois", "il")]
    [InlineData("Québec", "qu")] // "é" is dropped, so the name is not recognised
    [InlineData("District of Columbia", "di")]
    [InlineData("Bavaria", "ba")]
    [InlineData("x", "x")]
    [InlineData("constructor", "fu")] // the reference's object lookup finds Object.prototype.constructor
    public void State(string input, string? expected) => AssertNormalized(UserDataField.State, input, expected);

    [Theory]
    [InlineData("United States", "us")]
    [InlineData("USA", "us")]
    [InlineData("Germany", "de")]
    [InlineData("DE", "de")]
    [InlineData("United Kingdom", "gb")]
    [InlineData("Deutschland", "de")]
    [InlineData("Côte d'Ivoire", "ct")]
    [InlineData("Republic of Romania", "om")] // contains "oman", listed before "romania"
    [InlineData("The Dominican Republic", "dm")]
    [InlineData("Federal Republic of Nigeria", "ne")]
    [InlineData("United Kingdom of Great Britain and Northern Ireland", "ie")]
    public void Country(string input, string? expected) => AssertNormalized(UserDataField.Country, input, expected);

    [Theory]
    [InlineData("12345-6789", "12345")]
    [InlineData(" 12345 ", "12345")]
    [InlineData("A1B 2C3", "a1b 2c3")]
    [InlineData("SW1A 1AA", "sw1a 1aa")]
    [InlineData("ΑΣ-12", "ας")]
    [InlineData("1", null)]
    [InlineData("-12345", null)]
    public void Zip(string input, string? expected) => AssertNormalized(UserDataField.Zip, input, expected);

    [Theory]
    [InlineData("User 123", "user123")]
    [InlineData("CE9A5C4A-1B2C-4D5E-8F90-ABCDEF012345", "ce9a5c4a-1b2c-4d5e-8f90-abcdef012345")]
    [InlineData("ΑΣ Β", "ασβ")]
    [InlineData("ΑΣ.Β", "ασ.β")]
    public void ExternalId(string input, string? expected) => AssertNormalized(UserDataField.ExternalId, input, expected);

    [Fact]
    public void LoneSurrogate_IsKept()
    {
        Assert.Equal("lone\uD800", UserDataNormalizer.Normalize(UserDataField.ExternalId, "LONE\uD800"));
        Assert.Equal("\uDC00a", UserDataNormalizer.Normalize(UserDataField.FirstName, "\uDC00A"));
    }

    [Theory]
    [InlineData("973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B", Sha256OfTestEmail)]
    [InlineData(" 973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b\n", Sha256OfTestEmail)]
    [InlineData("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b.AQ", Sha256OfTestEmail)]
    [InlineData("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b.AQAEAAEC", Sha256OfTestEmail)]
    [InlineData("55502F40DC8B7C769880B10874ABC9D0", "55502f40dc8b7c769880b10874abc9d0")] // MD5
    public void AlreadyHashed_IsLowercasedWhateverTheField(string input, string expected)
    {
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            Assert.Equal(expected, UserDataNormalizer.Normalize(field, input));
        }
    }

    [Theory]
    [InlineData("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813")] // 63 digits
    [InlineData("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b.XX")] // unknown suffix
    public void NearlyHashed_IsNormalizedLikeAnyValue(string input) =>
        Assert.Null(UserDataNormalizer.Normalize(UserDataField.Email, input));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t\r\n\u00A0\u3000\uFEFF")]
    public void NullOrBlank_IsNullForEveryField(string? input)
    {
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            Assert.Null(UserDataNormalizer.Normalize(field, input));
        }
    }

    [Fact]
    public void ValuesLongerThanTheCap_AreDropped()
    {
        var longest = new string('a', UserDataNormalizer.MaxInputLength);
        Assert.Equal(longest, UserDataNormalizer.Normalize(UserDataField.ExternalId, longest));
        Assert.Null(UserDataNormalizer.Normalize(UserDataField.ExternalId, longest + "a"));
        Assert.Null(UserDataNormalizer.Normalize(UserDataField.FirstName, new string('x', 1 << 20)));
    }

    [Fact]
    public void UnknownField_IsNull() => Assert.Null(UserDataNormalizer.Normalize((UserDataField)99, "value"));

    [Fact]
    public void NeverThrows()
    {
        char[] pool = ['a', 'Z', '0', '9', ' ', '\t', '\n', '\0', '\u0007', '\u007F', '-', '.', '@', ':', '\'', '\u00A0',
            '\uFEFF', '\u0085', 'Σ', 'İ', '\u212A', 'é', '\u0301', '李', '１', '\uD83D', '\uDE00', '\uD800', '\uDFFF', '\uFFFF'];
        var random = new Random(20240601);
        var buffer = new char[64];
        for (int i = 0; i < 20_000; i++)
        {
            int length = random.Next(buffer.Length);
            for (int j = 0; j < length; j++)
            {
                buffer[j] = pool[random.Next(pool.Length)];
            }

            var value = new string(buffer, 0, length);
            foreach (var field in Enum.GetValues<UserDataField>())
            {
                _ = UserDataNormalizer.Normalize(field, value);
            }
        }
    }

    [Fact]
    public void WireNames_AreTheUserDataKeys()
    {
        (UserDataField Field, string Key)[] expected =
        [
            (UserDataField.Email, "em"), (UserDataField.Phone, "ph"), (UserDataField.FirstName, "fn"),
            (UserDataField.LastName, "ln"), (UserDataField.Gender, "ge"), (UserDataField.DateOfBirth, "db"),
            (UserDataField.City, "ct"), (UserDataField.State, "st"), (UserDataField.Zip, "zp"),
            (UserDataField.Country, "country"), (UserDataField.ExternalId, "external_id"),
        ];

        Assert.Equal(Enum.GetValues<UserDataField>().Length, expected.Length);
        foreach (var (field, key) in expected)
        {
            Assert.Equal(key, field.WireName());
        }
    }

    private static void AssertNormalized(UserDataField field, string input, string? expected) =>
        Assert.Equal(expected, UserDataNormalizer.Normalize(field, input));
}
