using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace CapiMiddleware.Hashing;

/// <summary>SHA-256 of normalized <c>user_data</c> values, as Meta expects them: lowercase hex.</summary>
internal static class UserDataHasher
{
    // Characters per encoding pass; three UTF-8 bytes at most per UTF-16 code unit.
    private const int ChunkChars = 512;

    private static readonly SearchValues<char> s_hexDigits = SearchValues.Create("0123456789abcdefABCDEF");
    private static readonly SearchValues<char> s_upperHexDigits = SearchValues.Create("ABCDEF");

    /// <summary>
    /// The normalized value's SHA-256 as lowercase hex, or null when it normalizes to nothing.
    /// A value that is already a digest (see <see cref="IsHashed"/>) is passed through, never hashed twice
    /// (see <see cref="PassThrough"/>).
    /// </summary>
    public static string? NormalizeAndHash(UserDataField field, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > UserDataNormalizer.MaxInputLength)
        {
            return null;
        }

        if (TryGetDigest(value, out var digest, out var builderSuffix))
        {
            return PassThrough(value, digest, builderSuffix);
        }

        Span<char> buffer = stackalloc char[value.Length * 2];
        int length = UserDataNormalizer.NormalizeUnhashed(field, value, buffer);
        return length == 0 ? null : Sha256Hex(buffer[..length]);
    }

    /// <summary>
    /// SHA-256 of the UTF-8 bytes, lowercase hex. A lone surrogate is encoded as its three-byte
    /// form (as the reference's encoder does) rather than replaced, so the hash still matches.
    /// </summary>
    public static string Sha256Hex(ReadOnlySpan<char> normalized)
    {
        Span<byte> utf8 = stackalloc byte[ChunkChars * 3];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (normalized.Length <= ChunkChars)
        {
            SHA256.HashData(utf8[..EncodeUtf8(normalized, utf8)], hash);
            return Convert.ToHexStringLower(hash);
        }

        using var incremental = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        while (!normalized.IsEmpty)
        {
            int take = Math.Min(ChunkChars, normalized.Length);
            if (take < normalized.Length && char.IsHighSurrogate(normalized[take - 1]))
            {
                take--; // keep a surrogate pair in one chunk
            }

            incremental.AppendData(utf8[..EncodeUtf8(normalized[..take], utf8)]);
            normalized = normalized[take..];
        }

        incremental.GetHashAndReset(hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// Whether the value (trimmed) is already a digest: 64 hex digits (SHA-256) or 32 (MD5), in
    /// either case, optionally followed by a Parameter Builder suffix (".AQ" or eight characters).
    /// </summary>
    public static bool IsHashed(ReadOnlySpan<char> value) => TryGetDigest(value, out _, out _);

    /// <param name="value">The raw value.</param>
    /// <param name="digest">The digest alone: trimmed, without the Parameter Builder suffix.</param>
    /// <param name="builderSuffix">Whether the value carried a Parameter Builder suffix.</param>
    internal static bool TryGetDigest(ReadOnlySpan<char> value, out ReadOnlySpan<char> digest, out bool builderSuffix)
    {
        builderSuffix = false;
        digest = JavaScriptText.Trim(value);
        if (IsHexDigest(digest))
        {
            return true;
        }

        int dot = digest.LastIndexOf('.');
        if (dot >= 0)
        {
            var suffix = digest[(dot + 1)..];
            if ((suffix.Length == 8 || IsParameterBuilderToken(suffix)) && IsHexDigest(digest[..dot]))
            {
                // The suffix only describes how the digest was made; Meta gets the digest alone.
                digest = digest[..dot];
                builderSuffix = true;
                return true;
            }
        }

        digest = default;
        return false;
    }

    /// <summary>
    /// What is sent for a value that is already a digest: a bare digest lowercased; a digest that carries a Parameter
    /// Builder suffix exactly as it is, case kept (the suffix dropped).
    /// </summary>
    /// <remarks>
    /// Meta's Parameter Builder lowercases a bare digest but forwards a suffixed one untouched, as its own finished
    /// output. Meta must get the same string whichever side forwards the value (a site may hash in the browser with
    /// the builder and send from here), so a suffixed digest keeps its case here too.
    /// </remarks>
    internal static string PassThrough(string value, ReadOnlySpan<char> digest, bool builderSuffix)
    {
        if (builderSuffix)
        {
            return new string(digest);
        }

        bool hasUpper = digest.ContainsAny(s_upperHexDigits);
        if (!hasUpper && digest.Length == value.Length)
        {
            return value;
        }

        Span<char> lower = stackalloc char[digest.Length];
        Ascii.ToLower(digest, lower, out _);
        return new string(lower);
    }

    private static bool IsHexDigest(ReadOnlySpan<char> value) =>
        value.Length is 64 or 32 && !value.ContainsAnyExcept(s_hexDigits);

    // The language tokens Meta's Parameter Builder libraries append to the digests they produce.
    private static bool IsParameterBuilderToken(ReadOnlySpan<char> suffix) =>
        suffix is "AQ" or "Ag" or "Aw" or "BA" or "BQ" or "Bg";

    private static int EncodeUtf8(ReadOnlySpan<char> source, Span<byte> destination)
    {
        int written = 0;
        while (true)
        {
            var status = Utf8.FromUtf16(source, destination[written..], out int read, out int encoded, replaceInvalidSequences: false);
            written += encoded;
            if (status != OperationStatus.InvalidData)
            {
                return written;
            }

            // A lone surrogate: its code unit in the generalized three-byte form.
            char surrogate = source[read];
            destination[written++] = (byte)(0xE0 | (surrogate >> 12));
            destination[written++] = (byte)(0x80 | ((surrogate >> 6) & 0x3F));
            destination[written++] = (byte)(0x80 | (surrogate & 0x3F));
            source = source[(read + 1)..];
        }
    }
}
