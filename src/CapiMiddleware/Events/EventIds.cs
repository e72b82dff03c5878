using System.Buffers.Text;
using System.Security.Cryptography;

namespace CapiMiddleware.Events;

/// <summary>Event IDs: the key Meta deduplicates the Pixel's and the server's copy of an event by.</summary>
internal static class EventIds
{
    /// <summary>The longest ID accepted from the browser's <c>X-Meta-Event-Id</c> header.</summary>
    public const int MaxBrowserEventIdLength = 64;

    /// <summary>A new random ID: 128 bits, base64url, 22 characters.</summary>
    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>
    /// Whether an ID sent by the browser may be used: 1 to 64 URL-safe characters. Anything else is ignored, so a header
    /// cannot carry markup or a huge value into events or logs.
    /// </summary>
    public static bool IsValidBrowserEventId(string? id)
    {
        if (id is null || id.Length is 0 or > MaxBrowserEventIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~'))
            {
                return false;
            }
        }

        return true;
    }
}
