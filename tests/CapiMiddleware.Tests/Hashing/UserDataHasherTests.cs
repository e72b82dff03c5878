using System.Text.RegularExpressions;
using CapiMiddleware.Hashing;
using Xunit;

namespace CapiMiddleware.Tests.Hashing;

// Digests were computed with `printf ... | sha256sum`; normalized forms are those of Meta's
// reference normalizer (npm capi-param-builder-nodejs 1.3.2) for the same input.
public class UserDataHasherTests
{
    private const string Sha256OfTestEmail = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b";
    private const string Md5 = "55502f40dc8b7c769880b10874abc9d0";

    [Theory]
    [InlineData("test@example.com", Sha256OfTestEmail)]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("josé", "d994e1d001886fe5b45b1267bd1fa2b752ac50742579bd3dad7b2a2aa0ed6866")]
    [InlineData("15551234567", "d6736136ea896c1bfdc553e0e86e702c70d060d805696ca3e4e9e0961353860a")]
    [InlineData("ςσ", "54fd2dcde8091c10adea1cea2fb99dd30cd71c040eb25399019781729118f945")]
    public void Sha256Hex_IsLowercaseHexOfTheUtf8Bytes(string normalized, string expected) =>
        Assert.Equal(expected, UserDataHasher.Sha256Hex(normalized));

    [Fact]
    public void Sha256Hex_EncodesALoneSurrogateAsItsThreeByteForm()
    {
        // printf '\xed\xa0\x80' | sha256sum, and printf 'lone\xed\xa0\x80' | sha256sum: the reference's encoder
        // writes the code unit as is instead of a replacement character.
        Assert.Equal("91a681b998555fb475479817b126c94e57e52011fa1842c5d188795a4a05226b", UserDataHasher.Sha256Hex("\uD800"));
        Assert.Equal("20eb0d5502be6fe0275b5bd16d284d4c9320a48bf14b3e7552b52c6d0b0a79bf", UserDataHasher.Sha256Hex("lone\uD800"));
    }

    [Fact]
    public void Sha256Hex_HashesLongValuesWhole()
    {
        Assert.Equal("41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3",
            UserDataHasher.Sha256Hex(new string('a', 1000)));
        Assert.Equal("e7794008152811530a464fbf1647e6a6fcafb67eed513b6b49d361a650acbe04",
            UserDataHasher.Sha256Hex("a" + string.Concat(Enumerable.Repeat("\U0001F600", 400))));
        Assert.Equal("c41f2dd66eaf83aaebf9c1c834d69e9238fa53c2cc92cd578dee467fdcd54ca0",
            UserDataHasher.Sha256Hex(new string('a', 511) + "\U0001F600b"));
        Assert.Equal("10f9bdbf80c47c99475a0cfd381eea50f75d1586317ee16079312d1ea37d9a2a",
            UserDataHasher.Sha256Hex(new string('a', 511) + "\uD800b"));
    }

    [Fact]
    public void NormalizeAndHash_HashesTheNormalizedValue()
    {
        Assert.Equal(Sha256OfTestEmail, UserDataHasher.NormalizeAndHash(UserDataField.Email, "  Test@Example.COM\n"));
        Assert.Equal("61c2008e1da48e507546d2faa8e3cdcaad3958f8b667013afdc00d4a2c996369",
            UserDataHasher.NormalizeAndHash(UserDataField.Email, "  Test.User+tag@Example.COM \n"));
        Assert.Equal("d6736136ea896c1bfdc553e0e86e702c70d060d805696ca3e4e9e0961353860a",
            UserDataHasher.NormalizeAndHash(UserDataField.Phone, "+1 (555) 123-4567"));
        Assert.Equal("d994e1d001886fe5b45b1267bd1fa2b752ac50742579bd3dad7b2a2aa0ed6866",
            UserDataHasher.NormalizeAndHash(UserDataField.FirstName, "José"));
        Assert.Equal("62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a",
            UserDataHasher.NormalizeAndHash(UserDataField.Gender, "Male"));
        Assert.Equal("20eb0d5502be6fe0275b5bd16d284d4c9320a48bf14b3e7552b52c6d0b0a79bf",
            UserDataHasher.NormalizeAndHash(UserDataField.ExternalId, "LONE\uD800"));
    }

    [Theory]
    [InlineData("973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B", Sha256OfTestEmail)]
    [InlineData("\t973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b ", Sha256OfTestEmail)]
    [InlineData("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b.BA", Sha256OfTestEmail)]
    [InlineData("55502F40DC8B7C769880B10874ABC9D0", Md5)]
    [InlineData("55502f40dc8b7c769880b10874abc9d0.12345678", Md5)]
    public void NormalizeAndHash_PassesDigestsThroughLowercased(string input, string expected)
    {
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            Assert.Equal(expected, UserDataHasher.NormalizeAndHash(field, input));
        }
    }

    // Meta's Parameter Builder forwards a digest that carries its suffix untouched, as its own output: Meta must get the
    // same string from us (the suffix dropped), so the case is kept.
    [Theory]
    [InlineData("973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B.AQ", "973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B")]
    [InlineData(" 973DFE463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b.AQQCAQMC\n", "973DFE463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b")]
    [InlineData("55502F40DC8B7C769880B10874ABC9D0.Bg", "55502F40DC8B7C769880B10874ABC9D0")]
    public void NormalizeAndHash_PassesDigestsWithAParameterBuilderSuffixThroughAsTheyAre(string input, string expected)
    {
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            Assert.Equal(expected, UserDataHasher.NormalizeAndHash(field, input));
            Assert.Equal(expected, UserDataNormalizer.Normalize(field, input));
        }
    }

    [Fact]
    public void NormalizeAndHash_NeverHashesTwice()
    {
        var once = UserDataHasher.NormalizeAndHash(UserDataField.Email, "test@example.com");
        Assert.Equal(once, UserDataHasher.NormalizeAndHash(UserDataField.Email, once));
        Assert.Equal(once, UserDataHasher.NormalizeAndHash(UserDataField.Phone, once!.ToUpperInvariant()));
    }

    [Theory]
    [InlineData(Sha256OfTestEmail, true)]
    [InlineData(" 973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B\n", true)]
    [InlineData(Md5, true)]
    [InlineData(Sha256OfTestEmail + ".Aw", true)]
    [InlineData(Sha256OfTestEmail + ".AQAEAAEC", true)]
    [InlineData(Sha256OfTestEmail + ".XX", false)]
    [InlineData("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813", false)]
    [InlineData("973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813g", false)]
    [InlineData("0x" + "dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b", false)]
    [InlineData("test@example.com", false)]
    [InlineData("", false)]
    public void IsHashed(string value, bool expected) => Assert.Equal(expected, UserDataHasher.IsHashed(value));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not an email")]
    public void NormalizeAndHash_IsNullWhenNothingIsLeft(string? input) =>
        Assert.Null(UserDataHasher.NormalizeAndHash(UserDataField.Email, input));

    [Fact]
    public void NormalizeAndHash_DropsOversizedValuesAndNeverThrows()
    {
        Assert.Null(UserDataHasher.NormalizeAndHash(UserDataField.ExternalId, new string('a', 1 << 20)));

        var digest = new Regex("^[0-9a-f]{64}$");
        char[] pool = ['a', 'Z', '0', ' ', '\n', '\0', '-', '.', '@', 'Σ', 'İ', '\u0301', '\uD83D', '\uDE00', '\uD800', '\uDFFF'];
        var random = new Random(7);
        var buffer = new char[UserDataNormalizer.MaxInputLength];
        for (int i = 0; i < 2_000; i++)
        {
            int length = random.Next(i % 10 == 0 ? buffer.Length : 40);
            for (int j = 0; j < length; j++)
            {
                buffer[j] = pool[random.Next(pool.Length)];
            }

            var value = new string(buffer, 0, length);
            foreach (var field in Enum.GetValues<UserDataField>())
            {
                var hash = UserDataHasher.NormalizeAndHash(field, value);
                Assert.True(hash is null || digest.IsMatch(hash));
            }
        }
    }
}
