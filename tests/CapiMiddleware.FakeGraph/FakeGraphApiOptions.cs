namespace CapiMiddleware.FakeGraph;

/// <summary>How a <see cref="FakeGraphApiServer"/> behaves. Read once, when the server starts.</summary>
public sealed class FakeGraphApiOptions
{
    /// <summary>The access token every request must carry. The default value is <c>"test-token"</c>.</summary>
    public string ExpectedAccessToken { get; set; } = "test-token";

    /// <summary>
    /// Pixels whose requests must carry a token of their own instead of <see cref="ExpectedAccessToken"/>.
    /// The default value is empty.
    /// </summary>
    public IReadOnlyDictionary<string, string> PixelAccessTokens { get; set; } = new Dictionary<string, string>();

    /// <summary>
    /// The token every Dataset Quality request must carry, when it differs from the one events are sent with.
    /// The default value is <see langword="null"/>: the dataset's own token, else <see cref="ExpectedAccessToken"/>.
    /// </summary>
    public string? DatasetQualityAccessToken { get; set; }

    /// <summary>
    /// The Graph API version every request must use, e.g. <c>"v24.0"</c>.
    /// The default value is <see langword="null"/>: any version of the form <c>vNN.N</c>.
    /// </summary>
    public string? ApiVersion { get; set; }

    /// <summary>
    /// Waited before every answer, scripted or not, on the real clock.
    /// The default value is <see cref="TimeSpan.Zero"/>.
    /// </summary>
    public TimeSpan ResponseDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The clock the <c>event_time</c> window (7 days back, 62 for <c>physical_store</c>, 1 minute ahead)
    /// is checked against. Waits and delays always use the real clock, so a frozen fake clock cannot hang a test.
    /// The default value is <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// When true, the server only counts, for benchmarks and load harnesses whose figures per-request work would
    /// distort: it reads each body, counts the events in it (the occurrences of <c>{"event_name":</c>, which every event
    /// the library writes starts with) and answers Meta's success body, checking nothing (path, token, events), keeping
    /// nothing and taking no lock. <see cref="FakeGraphApiServer.Down"/> and
    /// <see cref="FakeGraphApiServer.TokenRevoked"/> still apply; what reads or scripts single requests
    /// (<see cref="FakeGraphApiServer.Requests"/>, the waits, <see cref="FakeGraphApiServer.EnqueueResponse"/>,
    /// <see cref="FakeGraphApiServer.Responder"/>) throws. The default value is <see langword="false"/>: every request
    /// is recorded and validated like Meta.
    /// </summary>
    public bool CountOnly { get; set; }

    /// <summary>
    /// With <see cref="CountOnly"/>, tallies the numbered event IDs of each accepted body (see <see cref="EventTally"/>)
    /// instead of counting its events. The default value is <see langword="null"/>.
    /// </summary>
    public EventTally? Tally { get; set; }
}
