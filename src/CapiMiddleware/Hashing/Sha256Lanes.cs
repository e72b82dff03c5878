using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CapiMiddleware.Hashing;

/// <summary>
/// SHA-256 (FIPS 180-4) of up to eight short messages at once, side by side in the eight lanes of a
/// <see cref="Vector256{T}"/> ("multi-buffer" hashing). Each message fits one 64-byte block (at most
/// <see cref="MaxMessageLength"/> bytes), as the normalized fields of an event do. One at a time, OpenSSL spends most of
/// a short digest on the call itself; eight in one pass cost about what two cost one by one (docs/performance.md).
/// <c>Sha256LanesTests</c> checks it against <see cref="System.Security.Cryptography.SHA256"/>.
/// </summary>
internal static class Sha256Lanes
{
    public const int Lanes = 8;

    public const int BlockSize = 64;

    public const int DigestSize = 32;

    /// <summary>The longest message one block holds: 64 bytes less the 0x80 marker and the 8-byte bit length.</summary>
    public const int MaxMessageLength = BlockSize - 9;

    private static readonly uint[] RoundConstants =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    private static readonly uint[] InitialHash =
    [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];

    /// <summary>
    /// Whether the lanes run as vector instructions (x64 with AVX2); otherwise, as on Arm64 or with AVX2 turned off,
    /// hashing one by one with .NET's SHA-256 is faster, and that is what <see cref="UserDataHasher"/> does.
    /// </summary>
    public static bool IsSupported => !t_forceOneByOne && Vector256.IsHardwareAccelerated;

    /// <summary>For the tests of the one-by-one path on a machine that has the lanes: set on the test's thread only.</summary>
    [ThreadStatic]
    internal static bool t_forceOneByOne;

    /// <summary>
    /// Hashes <c>lengths.Length</c> (1 to 8) messages. Message <c>i</c> is in the first <c>lengths[i]</c> bytes of the
    /// <c>i</c>-th 64-byte block of <paramref name="blocks"/>, whose rest this method overwrites with the padding; its
    /// digest goes to the <c>i</c>-th 32 bytes of <paramref name="digests"/>.
    /// </summary>
    public static void Hash(Span<byte> blocks, ReadOnlySpan<int> lengths, Span<byte> digests)
    {
        var count = lengths.Length;
        if (count is < 1 or > Lanes || blocks.Length < count * BlockSize || digests.Length < count * DigestSize)
        {
            throw new ArgumentException("One to eight messages, one block and one digest each.");
        }

        for (var lane = 0; lane < count; lane++)
        {
            var length = lengths[lane];
            if ((uint)length > MaxMessageLength)
            {
                throw new ArgumentOutOfRangeException(nameof(lengths), "A message longer than one block holds.");
            }

            var block = blocks.Slice(lane * BlockSize, BlockSize);
            block[length] = 0x80;
            block[(length + 1)..56].Clear();
            BinaryPrimitives.WriteUInt64BigEndian(block[56..], (ulong)length * 8);
        }

        // The message schedule, a ring of 16 words, each word holding the same word of the eight messages.
        Span<Vector256<uint>> w = stackalloc Vector256<uint>[16];
        Span<uint> word = stackalloc uint[Lanes];
        for (var t = 0; t < 16; t++)
        {
            for (var lane = 0; lane < Lanes; lane++)
            {
                word[lane] = lane < count ? BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice((lane * BlockSize) + (t * 4), 4)) : 0;
            }

            w[t] = Vector256.Create<uint>(word);
        }

        var a = Vector256.Create(InitialHash[0]);
        var b = Vector256.Create(InitialHash[1]);
        var c = Vector256.Create(InitialHash[2]);
        var d = Vector256.Create(InitialHash[3]);
        var e = Vector256.Create(InitialHash[4]);
        var f = Vector256.Create(InitialHash[5]);
        var g = Vector256.Create(InitialHash[6]);
        var h = Vector256.Create(InitialHash[7]);
        for (var t = 0; t < 64; t++)
        {
            Vector256<uint> wt;
            if (t < 16)
            {
                wt = w[t];
            }
            else
            {
                var w15 = w[(t - 15) & 15];
                var w2 = w[(t - 2) & 15];
                var s0 = Rotate(w15, 7) ^ Rotate(w15, 18) ^ Vector256.ShiftRightLogical(w15, 3);
                var s1 = Rotate(w2, 17) ^ Rotate(w2, 19) ^ Vector256.ShiftRightLogical(w2, 10);
                wt = w[t & 15] + s0 + w[(t - 7) & 15] + s1;
                w[t & 15] = wt;
            }

            var t1 = h + (Rotate(e, 6) ^ Rotate(e, 11) ^ Rotate(e, 25)) + ((e & f) ^ Vector256.AndNot(g, e))
                + Vector256.Create(RoundConstants[t]) + wt;
            var t2 = (Rotate(a, 2) ^ Rotate(a, 13) ^ Rotate(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }

        Store(a + Vector256.Create(InitialHash[0]), 0, count, digests);
        Store(b + Vector256.Create(InitialHash[1]), 1, count, digests);
        Store(c + Vector256.Create(InitialHash[2]), 2, count, digests);
        Store(d + Vector256.Create(InitialHash[3]), 3, count, digests);
        Store(e + Vector256.Create(InitialHash[4]), 4, count, digests);
        Store(f + Vector256.Create(InitialHash[5]), 5, count, digests);
        Store(g + Vector256.Create(InitialHash[6]), 6, count, digests);
        Store(h + Vector256.Create(InitialHash[7]), 7, count, digests);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotate(Vector256<uint> x, int bits) =>
        Vector256.ShiftRightLogical(x, bits) | Vector256.ShiftLeft(x, 32 - bits);

    private static void Store(Vector256<uint> state, int index, int count, Span<byte> digests)
    {
        for (var lane = 0; lane < count; lane++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(digests.Slice((lane * DigestSize) + (index * 4), 4), state.GetElement(lane));
        }
    }
}
