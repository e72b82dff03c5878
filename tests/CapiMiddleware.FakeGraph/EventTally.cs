namespace CapiMiddleware.FakeGraph;

/// <summary>
/// How many times the fake accepted each event of a run whose event IDs are <see cref="Prefix"/> and a number below the
/// capacity: one counter per number, allocated up front, so the tally does not grow the heap it helps to measure. Given
/// to a <see cref="FakeGraphApiOptions.CountOnly"/> server through <see cref="FakeGraphApiOptions.Tally"/>.
/// </summary>
/// <remarks>
/// Given the access tokens of several senders (the nodes of a web farm, each with a token of its own), it also notes
/// which of them sent each event, by the request's bearer token: a copy sent twice by one sender can then be told from
/// one sent by two (another node that took the event over).
/// </remarks>
public sealed class EventTally
{
    /// <summary>What every tallied event ID starts with.</summary>
    public const string Prefix = "soak-";

    private static readonly byte[] Marker = System.Text.Encoding.UTF8.GetBytes("\"event_id\":\"" + Prefix);

    private readonly int[] _times;
    private readonly string[] _senders;
    private readonly int[] _sentBy;

    /// <summary>A tally of the event numbers below <paramref name="capacity"/>, not noting senders.</summary>
    /// <param name="capacity">One more than the highest event number of the run.</param>
    public EventTally(int capacity)
        : this(capacity, [])
    {
    }

    /// <summary>A tally that also notes which of <paramref name="senderAccessTokens"/> (at most 31) sent each event.</summary>
    /// <param name="capacity">One more than the highest event number of the run.</param>
    /// <param name="senderAccessTokens">The senders' access tokens; sender <c>i</c> is bit <c>1 &lt;&lt; i</c> of <see cref="SentBy"/>.</param>
    public EventTally(int capacity, IReadOnlyList<string> senderAccessTokens)
    {
        ArgumentNullException.ThrowIfNull(senderAccessTokens);
        if (senderAccessTokens.Count > 31)
        {
            throw new ArgumentOutOfRangeException(nameof(senderAccessTokens), senderAccessTokens.Count, "An EventTally notes at most 31 senders.");
        }

        _times = new int[capacity];
        _senders = [.. senderAccessTokens];
        _sentBy = _senders.Length == 0 ? [] : new int[capacity];
    }

    /// <summary>Whether the tally notes senders, so that the server must give it each request's access token.</summary>
    public bool NotesSenders => _senders.Length > 0;

    /// <summary>The event ID of event number <paramref name="number"/>.</summary>
    public static string IdOf(long number) => Prefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Tallies the event IDs in one request's body; returns how many events it holds.</summary>
    public int Add(ReadOnlySpan<byte> body) => Add(body, accessToken: null);

    /// <summary>
    /// Tallies the event IDs in one request's body, sent with <paramref name="accessToken"/> (noted when it is one of
    /// the senders'); returns how many events it holds.
    /// </summary>
    public int Add(ReadOnlySpan<byte> body, string? accessToken)
    {
        var index = accessToken is null ? -1 : Array.IndexOf(_senders, accessToken);
        var sender = index >= 0 ? 1 << index : 0;
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
            if (sender != 0)
            {
                Interlocked.Or(ref _sentBy[number], sender);
            }

            count++;
        }

        return count;
    }

    /// <summary>How many times event number <paramref name="number"/> was accepted.</summary>
    public int TimesOf(long number) => Volatile.Read(ref _times[number]);

    /// <summary>Which senders sent event number <paramref name="number"/>: bit <c>i</c> for the <c>i</c>-th access token; 0 without senders.</summary>
    public int SentBy(long number) => _sentBy.Length == 0 ? 0 : Volatile.Read(ref _sentBy[number]);

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
