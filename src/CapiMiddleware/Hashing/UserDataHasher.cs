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

    private static readonly int FieldCount = Enum.GetValues<UserDataField>().Length;

    [ThreadStatic]
    private static IncrementalHash? t_sha256;

    [ThreadStatic]
    private static HashWork? t_work;

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

    /// <summary>Whether this thread's hashing buffer holds any byte of the last event's values (it must not, after hashing).</summary>
    internal static bool ThreadBufferHoldsData => t_work?.HoldsData ?? false;

    /// <summary>
    /// Every personal field of <paramref name="user"/> normalized and hashed, indexed by <see cref="UserDataField"/>: each
    /// field's values in order (the property's first, then the added ones), invalid ones dropped, the same hash kept
    /// once; <see langword="null"/> where nothing is left. The same results as <see cref="NormalizeAndHash"/> value by
    /// value, but the short values (nearly all) are hashed eight at a time by <see cref="Sha256Lanes"/>.
    /// </summary>
    public static string[]?[] NormalizeAndHashAll(UserData user)
    {
        var work = t_work ??= new HashWork();
        work.Clear();
        for (var field = 0; field < FieldCount; field++)
        {
            work.Add((UserDataField)field, user.Get((UserDataField)field));
            if (user.More((UserDataField)field) is { } more)
            {
                foreach (var value in more)
                {
                    work.Add((UserDataField)field, value);
                }
            }
        }

        try
        {
            work.HashPending();
            return work.Collect();
        }
        finally
        {
            work.Wipe(); // the thread keeps its buffer: the normalized personal data in it does not stay
        }
    }

    /// <summary>
    /// SHA-256 of the UTF-8 bytes, lowercase hex. A lone surrogate is encoded as its three-byte
    /// form (as the reference's encoder does) rather than replaced, so the hash still matches.
    /// </summary>
    public static string Sha256Hex(ReadOnlySpan<char> normalized)
    {
        // One hash object per thread, reset by each GetHashAndReset: a one-shot SHA256.HashData creates and frees
        // OpenSSL's digest context on every call. The UTF-8 buffer is sized to the value, because a stackalloc is
        // zeroed: a fixed 1.5 KB one cost more than the digest of a short value (docs/performance.md).
        var sha256 = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> utf8 = stackalloc byte[Math.Min(normalized.Length, ChunkChars) * 3];
        while (!normalized.IsEmpty)
        {
            int take = Math.Min(ChunkChars, normalized.Length);
            if (take < normalized.Length && char.IsHighSurrogate(normalized[take - 1]))
            {
                take--; // keep a surrogate pair in one chunk
            }

            sha256.AppendData(utf8[..EncodeUtf8(normalized[..take], utf8)]);
            normalized = normalized[take..];
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        sha256.GetHashAndReset(hash);
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
    private static bool IsParameterBuilderToken(ReadOnlySpan<char> suffix) => Cookies.MetaCookies.IsLanguageToken(suffix);

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

    /// <summary>One event's values on their way to <see cref="NormalizeAndHashAll"/>'s result; reused by the thread.</summary>
    private sealed class HashWork
    {
        private readonly List<(UserDataField Field, string? Hash, int Lane)> _values = [];
        private readonly List<int> _lengths = [];
        private byte[] _blocks = new byte[Sha256Lanes.Lanes * Sha256Lanes.BlockSize * 2];
        private readonly byte[] _digests = new byte[Sha256Lanes.Lanes * Sha256Lanes.DigestSize];
        private string[] _laneHashes = new string[Sha256Lanes.Lanes * 2];

        public void Clear()
        {
            _values.Clear();
            _lengths.Clear();
        }

        /// <summary>Zeroes the blocks that held this event's normalized values (plaintext personal data).</summary>
        public void Wipe() => _blocks.AsSpan(0, Math.Min(_blocks.Length, _lengths.Count * Sha256Lanes.BlockSize)).Clear();

        /// <summary>Whether any byte of the buffer is set: for the test that the plaintext does not stay.</summary>
        internal bool HoldsData => _blocks.AsSpan().ContainsAnyExcept((byte)0);

        public void Add(UserDataField field, string? value)
        {
            if (string.IsNullOrEmpty(value) || value.Length > UserDataNormalizer.MaxInputLength)
            {
                return;
            }

            if (TryGetDigest(value, out var digest, out var builderSuffix))
            {
                _values.Add((field, PassThrough(value, digest, builderSuffix), -1));
                return;
            }

            Span<char> normalized = stackalloc char[value.Length * 2];
            var length = UserDataNormalizer.NormalizeUnhashed(field, value, normalized);
            if (length == 0)
            {
                return;
            }

            normalized = normalized[..length];
            if (!Sha256Lanes.IsSupported || length > Sha256Lanes.MaxMessageLength)
            {
                _values.Add((field, Sha256Hex(normalized), -1));
                return;
            }

            Span<byte> utf8 = stackalloc byte[length * 3];
            var byteCount = EncodeUtf8(normalized, utf8);
            if (byteCount > Sha256Lanes.MaxMessageLength)
            {
                _values.Add((field, Sha256Hex(normalized), -1));
                return;
            }

            var lane = _lengths.Count;
            if ((lane + 1) * Sha256Lanes.BlockSize > _blocks.Length)
            {
                Array.Resize(ref _blocks, _blocks.Length * 2);
            }

            utf8[..byteCount].CopyTo(_blocks.AsSpan(lane * Sha256Lanes.BlockSize));
            _lengths.Add(byteCount);
            _values.Add((field, null, lane));
        }

        public void HashPending()
        {
            var lanes = _lengths.Count;
            if (_laneHashes.Length < lanes)
            {
                Array.Resize(ref _laneHashes, lanes);
            }

            var lengths = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_lengths);
            for (var first = 0; first < lanes; first += Sha256Lanes.Lanes)
            {
                var count = Math.Min(Sha256Lanes.Lanes, lanes - first);
                Sha256Lanes.Hash(_blocks.AsSpan(first * Sha256Lanes.BlockSize), lengths.Slice(first, count), _digests);
                for (var i = 0; i < count; i++)
                {
                    _laneHashes[first + i] = Convert.ToHexStringLower(_digests.AsSpan(i * Sha256Lanes.DigestSize, Sha256Lanes.DigestSize));
                }
            }
        }

        public string[]?[] Collect()
        {
            var result = new string[]?[FieldCount];
            var values = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_values);
            var start = 0;
            while (start < values.Length)
            {
                var field = values[start].Field;
                var end = start + 1;
                while (end < values.Length && values[end].Field == field)
                {
                    end++;
                }

                result[(int)field] = Distinct(values[start..end]);
                start = end;
            }

            return result;
        }

        private string[] Distinct(ReadOnlySpan<(UserDataField Field, string? Hash, int Lane)> values)
        {
            if (values.Length == 1)
            {
                return [HashOf(values[0])];
            }

            var hashes = new List<string>(values.Length);
            foreach (var value in values)
            {
                var hash = HashOf(value);
                if (!hashes.Contains(hash))
                {
                    hashes.Add(hash);
                }
            }

            return [.. hashes];
        }

        private string HashOf((UserDataField Field, string? Hash, int Lane) value) => value.Hash ?? _laneHashes[value.Lane];
    }
}
