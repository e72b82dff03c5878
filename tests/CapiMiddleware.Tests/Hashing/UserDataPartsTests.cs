using System.Security.Cryptography;
using System.Text;
using CapiMiddleware.Hashing;

namespace CapiMiddleware.Tests.Hashing;

/// <summary>
/// The single-value <c>user_data</c> fields of Meta's SDKs (Node 24.0.1 <c>utils.js</c>, Python 25.0.2
/// <c>normalize.py</c>): what each sends for a value, and which values are dropped.
/// </summary>
public sealed class UserDataPartsTests
{
    private const string Digest = "fb98d44ad7501a959f3f4f4a3f004fe2d9e581ea6207e218c4b02c08a4d75adf";

    [Theory]
    [InlineData(" Johnathan ", "johna")]
    [InlineData("ANN", "ann")]
    [InlineData("Élodie", "élodi")]
    public void Name_prefixes_are_the_first_five_characters_trimmed_and_lowercased(string name, string hashed)
    {
        Assert.Equal(Sha(hashed), UserDataParts.FirstFive(name));
    }

    [Theory]
    [InlineData(" Ann", "a")]
    [InlineData("Élodie", "é")]
    public void The_initial_is_the_first_character_lowercased(string name, string hashed)
    {
        Assert.Equal(Sha(hashed), UserDataParts.Initial(name));
    }

    [Theory]
    [InlineData("5", "05")]
    [InlineData("05", "05")]
    [InlineData(" 31 ", "31")]
    [InlineData("0", null)]
    [InlineData("32", null)]
    [InlineData("3x", null)]
    [InlineData("005", null)]
    public void Days_of_birth_are_1_to_31_in_two_digits(string day, string? hashed)
    {
        Assert.Equal(hashed is null ? null : Sha(hashed), UserDataParts.Day(day));
    }

    [Theory]
    [InlineData("2", "02")]
    [InlineData("12", "12")]
    [InlineData("13", null)]
    [InlineData("00", null)]
    public void Months_of_birth_are_1_to_12_in_two_digits(string month, string? hashed)
    {
        Assert.Equal(hashed is null ? null : Sha(hashed), UserDataParts.Month(month));
    }

    [Theory]
    [InlineData("1990", "1990")]
    [InlineData(" 2001", "2001")]
    [InlineData("90", null)]
    [InlineData("19901", null)]
    [InlineData("199O", null)]
    public void Years_of_birth_are_four_digits(string year, string? hashed)
    {
        Assert.Equal(hashed is null ? null : Sha(hashed), UserDataParts.Year(year));
    }

    [Fact]
    public void The_app_user_ID_is_trimmed_lowercased_and_hashed()
    {
        Assert.Equal(Sha("user-42"), UserDataParts.AppUserId(" User-42 "));
    }

    [Fact]
    public void Digests_pass_through_every_hashed_part_lowercased_and_empty_values_are_dropped()
    {
        foreach (var part in new Func<string?, string?>[] { UserDataParts.FirstFive, UserDataParts.Initial, UserDataParts.Day, UserDataParts.Month, UserDataParts.Year, UserDataParts.AppUserId })
        {
            Assert.Equal(Digest, part(Digest.ToUpperInvariant()));
            Assert.Equal("0cc175b9c0f1b6a831c399e269772661", part(" 0CC175B9C0F1B6A831C399E269772661 ")); // MD5, as the SDKs allow
            Assert.Null(part("   "));
            Assert.Null(part(null));
        }
    }

    [Theory]
    [InlineData("123456789012345", "123456789012345")]
    [InlineData(" 12345678901234567 ", "12345678901234567")]
    [InlineData("12345678901234", null)]
    [InlineData("123456789012345678", null)]
    [InlineData("1234567890123 45", null)]
    [InlineData("１２３４５６７８９０１２３４５", null)] // full-width digits are not ASCII digits
    public void Lead_IDs_are_15_to_17_ASCII_digits_sent_unhashed(string id, string? sent)
    {
        Assert.Equal(sent, UserDataParts.LeadId(id));
    }

    [Theory]
    [InlineData("1029384756", "1029384756")]
    [InlineData(" 42 ", "42")]
    [InlineData("page-42", null)]
    [InlineData("", null)]
    public void Meta_s_numeric_IDs_are_digits_sent_unhashed(string id, string? sent)
    {
        Assert.Equal(sent, UserDataParts.NumericId(id));
    }

    [Theory]
    [InlineData(" 38400000-8cf0-11bd-b23e-10b96e40000d ", "38400000-8cf0-11bd-b23e-10b96e40000d")]
    [InlineData("AbC_-.9", "AbC_-.9")]
    [InlineData("  ", null)]
    public void Other_identifiers_are_sent_as_they_are_trimmed(string id, string? sent)
    {
        Assert.Equal(sent, UserDataParts.Identifier(id));
    }

    private static string Sha(string normalized) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
}
