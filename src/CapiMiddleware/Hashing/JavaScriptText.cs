using System.Globalization;
using System.Text;

namespace CapiMiddleware.Hashing;

/// <summary>Which characters <see cref="JavaScriptText.ToLower"/> drops while lowercasing.</summary>
internal enum TextRemoval
{
    None,
    WhiteSpace,
    WhiteSpaceAndAsciiPunctuation,
}

/// <summary>
/// The JavaScript string semantics Meta's reference normalizer (Node) is built on: its whitespace
/// set and <c>String.prototype.toLowerCase</c>. .NET differs on both, and a one-character
/// difference changes the hash, so they are reproduced here.
/// </summary>
internal static class JavaScriptText
{
    /// <summary>JavaScript's <c>\s</c> and <c>trim()</c> set: unlike .NET it has U+FEFF and lacks U+0085.</summary>
    public static bool IsWhiteSpace(char c)
    {
        if (c < 0x80)
        {
            return c == ' ' || (c >= '\t' && c <= '\r');
        }

        return c is '\u00A0' or '\u1680' or (>= '\u2000' and <= '\u200A') or '\u2028' or '\u2029'
            or '\u202F' or '\u205F' or '\u3000' or '\uFEFF';
    }

    public static ReadOnlySpan<char> Trim(ReadOnlySpan<char> value)
    {
        int start = 0;
        int end = value.Length;
        while (start < end && IsWhiteSpace(value[start]))
        {
            start++;
        }

        while (end > start && IsWhiteSpace(value[end - 1]))
        {
            end--;
        }

        return value[start..end];
    }

    /// <summary>
    /// Lowercases like <c>toLowerCase()</c> after dropping the characters <paramref name="removal"/>
    /// names (the dropped characters are not context for the final-sigma rule, as in the reference,
    /// which strips before lowercasing). <paramref name="destination"/> needs twice the source length:
    /// U+0130 lowercases to two characters.
    /// </summary>
    public static int ToLower(ReadOnlySpan<char> source, Span<char> destination, TextRemoval removal)
    {
        int written = 0;
        for (int i = 0; i < source.Length; i++)
        {
            char c = source[i];
            if (IsRemoved(c, removal))
            {
                continue;
            }

            if (c < 0x80)
            {
                destination[written++] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < source.Length && char.IsLowSurrogate(source[i + 1]))
            {
                var lower = new Rune(LowerSupplementary(char.ConvertToUtf32(c, source[i + 1])));
                written += lower.EncodeToUtf16(destination[written..]);
                i++;
            }
            else if (c == '\u0130')
            {
                // The only unconditional one-to-many lowercase mapping: "İ" becomes "i" + combining dot above.
                destination[written++] = 'i';
                destination[written++] = '\u0307';
            }
            else if (c == '\u03A3')
            {
                destination[written++] = IsFinalSigma(source, i, removal) ? '\u03C2' : '\u03C3';
            }
            else
            {
                destination[written++] = LowerBmp(c);
            }
        }

        return written;
    }

    private static bool IsRemoved(char c, TextRemoval removal) => removal switch
    {
        TextRemoval.WhiteSpace => IsWhiteSpace(c),
        TextRemoval.WhiteSpaceAndAsciiPunctuation => IsWhiteSpace(c) || IsAsciiPunctuation(c),
        _ => false,
    };

    private static bool IsAsciiPunctuation(char c) =>
        c is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~');

    // Case pairs from Unicode 16 and 17 that .NET 10's casing tables do not have yet but Node's ICU does.
    // char.ToLowerInvariant asks ICU for each non-ASCII character, which was half the cost of hashing a purchase with
    // one accented name (docs/performance.md). Names, cities and addresses are mostly Latin, Greek or Cyrillic: their
    // lowercase comes from a table built once from the same rule, up to the end of the Cyrillic Supplement block.
    private const char LowerTableEnd = '\u0530';

    private static readonly char[] LowerTable = BuildLowerTable();

    private static char LowerBmp(char c) => c < LowerTableEnd ? LowerTable[c] : LowerBmpUncached(c);

    private static char[] BuildLowerTable()
    {
        var table = new char[LowerTableEnd];
        for (var c = '\0'; c < LowerTableEnd; c++)
        {
            table[c] = LowerBmpUncached(c);
        }

        return table;
    }

    private static char LowerBmpUncached(char c)
    {
        char lower = char.ToLowerInvariant(c);
        if (lower != c)
        {
            return lower;
        }

        return c switch
        {
            '\u1C89' => '\u1C8A',
            '\uA7CB' => '\u0264',
            '\uA7CC' => '\uA7CD',
            '\uA7CE' => '\uA7CF',
            '\uA7D2' => '\uA7D3',
            '\uA7D4' => '\uA7D5',
            '\uA7DA' => '\uA7DB',
            '\uA7DC' => '\u019B',
            _ => c,
        };
    }

    private static int LowerSupplementary(int codePoint) => codePoint switch
    {
        >= 0x10D50 and <= 0x10D65 => codePoint + 0x20, // Garay
        >= 0x16EA0 and <= 0x16EB8 => codePoint + 0x1B, // Beria Erfe
        _ => Rune.ToLowerInvariant(new Rune(codePoint)).Value,
    };

    // Unicode's Final_Sigma condition: a cased letter before (skipping case-ignorable characters)
    // and none after. ICU, which Node uses, treats a character that is both as case-ignorable.
    private static bool IsFinalSigma(ReadOnlySpan<char> text, int index, TextRemoval removal) =>
        HasCasedLetterBefore(text, index, removal) && !HasCasedLetterAfter(text, index, removal);

    private static bool HasCasedLetterBefore(ReadOnlySpan<char> text, int index, TextRemoval removal)
    {
        int i = index - 1;
        while (i >= 0)
        {
            int codePoint = text[i];
            if (char.IsLowSurrogate(text[i]) && i > 0 && char.IsHighSurrogate(text[i - 1]))
            {
                codePoint = char.ConvertToUtf32(text[i - 1], text[i]);
                i--;
            }

            i--;
            if (codePoint < 0x10000 && IsRemoved((char)codePoint, removal))
            {
                continue;
            }

            var context = Classify(codePoint);
            if (context != CaseContext.Ignorable)
            {
                return context == CaseContext.Cased;
            }
        }

        return false;
    }

    private static bool HasCasedLetterAfter(ReadOnlySpan<char> text, int index, TextRemoval removal)
    {
        int i = index + 1;
        while (i < text.Length)
        {
            int codePoint = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoint = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            i++;
            if (codePoint < 0x10000 && IsRemoved((char)codePoint, removal))
            {
                continue;
            }

            var context = Classify(codePoint);
            if (context != CaseContext.Ignorable)
            {
                return context == CaseContext.Cased;
            }
        }

        return false;
    }

    private enum CaseContext : byte
    {
        Other,
        Cased,
        Ignorable,
    }

    private static CaseContext Classify(int codePoint)
    {
        // Unicode's Cased and Case_Ignorable properties are mostly general categories; these
        // ranges are where they are not (plus code points .NET 10 does not know yet).
        ReadOnlySpan<int> starts =
        [
            0x0027, 0x002E, 0x003A, 0x00AA, 0x00B7, 0x00BA, 0x0295, 0x0387, 0x055F, 0x05F4,
            0x1ACF, 0x1AE0, 0x2018, 0x2024, 0x2027, 0x2160, 0x24B6, 0xA7CE, 0xA7D2, 0xA7D4,
            0xA7F1, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A, 0x10EC5, 0x10EFA, 0x11B60,
            0x11B62, 0x11B66, 0x11DD9, 0x16EA0, 0x16EBB, 0x16FF2, 0x1E6E3, 0x1E6E6, 0x1E6EE, 0x1E6F5,
            0x1E6FF, 0x1F130, 0x1F150, 0x1F170,
        ];
        ReadOnlySpan<int> ends =
        [
            0x0027, 0x002E, 0x003A, 0x00AA, 0x00B7, 0x00BA, 0x0295, 0x0387, 0x055F, 0x05F4,
            0x1ADD, 0x1AEB, 0x2019, 0x2024, 0x2027, 0x217F, 0x24E9, 0xA7CF, 0xA7D2, 0xA7D4,
            0xA7F1, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A, 0x10EC5, 0x10EFB, 0x11B60,
            0x11B64, 0x11B66, 0x11DD9, 0x16EB8, 0x16ED3, 0x16FF3, 0x1E6E3, 0x1E6E6, 0x1E6EF, 0x1E6F5,
            0x1E6FF, 0x1F149, 0x1F169, 0x1F189,
        ];
        ReadOnlySpan<byte> contexts =
        [
            2, 2, 2, 1, 2, 1, 0, 2, 2, 2,
            2, 2, 2, 2, 2, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
            2, 2, 2, 1, 1, 2, 2, 2, 2, 2,
            2, 1, 1, 1,
        ];

        for (int i = 0; i < starts.Length && starts[i] <= codePoint; i++)
        {
            if (codePoint <= ends[i])
            {
                return (CaseContext)contexts[i];
            }
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                => CaseContext.Cased,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
                or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
                => CaseContext.Ignorable,
            _ => CaseContext.Other,
        };
    }
}
