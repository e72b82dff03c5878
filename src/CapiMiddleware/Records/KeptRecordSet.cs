using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CapiMiddleware.Records;

/// <summary>
/// One kind of kept record and how the durable stores name and encode it: its SQLite table, its Redis keys, its JSON
/// (source-generated, so nothing here needs reflection).
/// </summary>
/// <typeparam name="T">The record.</typeparam>
internal sealed class KeptRecordSet<T>
    where T : class, IKeptRecord
{
    /// <summary>The SQLite table, and the Redis sorted set <c>{prefix}:{Name}</c> that counts the records: <c>identities</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The Redis key of one record is <c>{prefix}:{ItemName}:{key}</c>: <c>identity</c>.</summary>
    public required string ItemName { get; init; }

    /// <summary>In Redis a record is kept with its expiry as <c>{"ExpiresAt":ms,"{ValueProperty}":record}</c>: <c>Identity</c>.</summary>
    public required string ValueProperty { get; init; }

    /// <summary>The record's source-generated JSON.</summary>
    public required JsonTypeInfo<T> Json { get; init; }

    /// <summary>
    /// Whether the set is counted (<see cref="IKeptRecords{T}.CountAsync"/>). Redis keeps a counted set's keys in a sorted
    /// set by expiry, which each save also trims: a few commands more per save. An uncounted set is plain keys with their
    /// expiry, and its count is -1 there. The default value is <see langword="true"/>.
    /// </summary>
    public bool Counted { get; init; } = true;

    /// <summary>Fills in what a record written by an earlier version may lack; the record as it is when null.</summary>
    public Func<T, T>? Complete { get; init; }

    public byte[] Encode(T record) => JsonSerializer.SerializeToUtf8Bytes(record, Json);

    /// <summary>The record, or <see langword="null"/> for a value this version cannot read (it is treated as unknown).</summary>
    public T? Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            return Finish(JsonSerializer.Deserialize(json, Json));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The record with its expiry (Unix milliseconds), as one value where the store has no column for the expiry (Redis).</summary>
    public byte[] EncodeExpiring(long expiresAt, T record)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("ExpiresAt"u8, expiresAt);
            writer.WritePropertyName(ValueProperty);
            JsonSerializer.Serialize(writer, record, Json);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>What <see cref="EncodeExpiring"/> wrote, or <see langword="null"/> for a value this version cannot read.</summary>
    public (long ExpiresAt, T Record)? DecodeExpiring(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            long? expiresAt = null;
            T? record = null;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            var valueProperty = Encoding.UTF8.GetBytes(ValueProperty);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("ExpiresAt"u8))
                {
                    reader.Read();
                    expiresAt = reader.GetInt64();
                }
                else if (reader.ValueTextEquals(valueProperty))
                {
                    reader.Read();
                    record = Finish(JsonSerializer.Deserialize(ref reader, Json));
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return expiresAt is { } at && record is not null ? (at, record) : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private T? Finish(T? record) => record is not null && Complete is { } complete ? complete(record) : record;
}
