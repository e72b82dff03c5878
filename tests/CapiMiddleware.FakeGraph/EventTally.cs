namespace CapiMiddleware.FakeGraph;

/// <summary>
/// How many times the fake accepted each event of a run whose event IDs are <see cref="Prefix"/> and a number below the
/// capacity: one counter per number, allocated up front, so the tally does not grow the heap it helps to measure. Given
/// to a <see cref="FakeGraphApiOptions.CountOnly"/> server through <see cref="FakeGraphApiOptions.Tally"/>.
/// </summary>
/// <param name="capacity">One more than the highest event number of the run.</param>
public sealed class EventTally(int capacity)
{
    /// <summary>What every tallied event ID starts with.</summary>
    public const string Prefix = "soak-";

    private static readonly byte[] Marker = System.Text.Encoding.UTF8.GetBytes("\"event_id\":\"" + Prefix);

    private readonly int[] _times = new int[capacity];

    /// <summary>The event ID of event number <paramref name="number"/>.</summary>
    public static string IdOf(long number) => Prefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Tallies the event IDs in one request's body; returns how many events it holds.</summary>
    public int Add(ReadOnlySpan<byte> body)
    {
        var count = 0;
        while (body.IndexOf(Marker) is var at and >= 0)
        {
            body = body[(at + Marker.Length)..];
            var number = 0;
            var digits = 0;
            while (digits < body.Length && body[digits] is >= (byte)'0' and <= (byte)'9')
            {
                number = (number * 10) + (body[digits] - '0');
                digits++;
            }

            Interlocked.Increment(ref _times[number]);
            count++;
        }

        return count;
    }

    /// <summary>The events accepted at least once, and the copies beyond the first, among the numbers below <paramref name="below"/>.</summary>
    public (long Distinct, long Duplicates) Totals(long below)
    {
        long distinct = 0;
        long duplicates = 0;
        for (var i = 0; i < below && i < _times.Length; i++)
        {
            var times = Volatile.Read(ref _times[i]);
            distinct += times > 0 ? 1 : 0;
            duplicates += times > 1 ? times - 1 : 0;
        }

        return (distinct, duplicates);
    }
}
