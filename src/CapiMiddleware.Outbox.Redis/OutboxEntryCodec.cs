using System.Text;

namespace CapiMiddleware.Outbox.Redis;

/// <summary>
/// An <see cref="OutboxEntry"/> as one compact binary value, for stores that keep an entry in one field (Redis):
/// a version byte, then the fields in a fixed order, strings and the payload length-prefixed.
/// </summary>
internal static class OutboxEntryCodec
{
    private const byte Version = 1;

    public static byte[] Encode(OutboxEntry entry)
    {
        using var stream = new MemoryStream(entry.Payload.Length + 128);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            writer.Write(entry.PixelId);
            writer.Write(entry.EventName);
            writer.Write(entry.EventId);
            writer.Write(entry.EventTime);
            writer.Write(entry.ActionSource);
            writer.Write(entry.EnqueuedAt.ToUnixTimeMilliseconds());
            writer.Write(entry.FailedAttempts);
            writer.Write7BitEncodedInt(entry.Payload.Length);
            writer.Write(entry.Payload);
        }

        return stream.ToArray();
    }

    /// <summary>The entry, or <see langword="null"/> when the value is not one this version wrote.</summary>
    public static OutboxEntry? Decode(byte[] value)
    {
        try
        {
            using var stream = new MemoryStream(value, writable: false);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadByte() != Version)
            {
                return null;
            }

            var pixelId = reader.ReadString();
            var eventName = reader.ReadString();
            var eventId = reader.ReadString();
            var eventTime = reader.ReadInt64();
            var actionSource = reader.ReadString();
            var enqueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
            var attempts = reader.ReadInt32();
            var payload = reader.ReadBytes(reader.Read7BitEncodedInt());
            return new OutboxEntry
            {
                PixelId = pixelId,
                EventName = eventName,
                EventId = eventId,
                EventTime = eventTime,
                ActionSource = actionSource,
                EnqueuedAt = enqueuedAt,
                FailedAttempts = attempts,
                Payload = payload,
            };
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException or ArgumentException)
        {
            return null;
        }
    }
}
