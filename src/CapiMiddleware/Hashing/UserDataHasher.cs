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
    /// A value that is already a digest (see <see cref="IsHashed"/>) is returned lowercased, never hashed twice.
    /// </summary>
    public static string? NormalizeAndHash(UserDataField field, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > UserDataNormalizer.MaxInputLength)
        {
            return null;
        }

        if (TryGetDigest(value, out var digest))
        {
            return ToLowerDigest(value, digest);
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
    public static bool IsHashed(ReadOnlySpan<char> value) => TryGetDigest(value, out _);

    internal static bool TryGetDigest(ReadOnlySpan<char> value, out ReadOnlySpan<char> digest)
    {
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
                return true;
            }
        }

        digest = default;
        return false;
    }

    /// <summary>The digest lowercased, reusing <paramref name="value"/> when it is the digest already.</summary>
    internal static string ToLowerDigest(string value, ReadOnlySpan<char> digest)
    {
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
