namespace CapiMiddleware;

/// <summary>
/// Meta's data processing options for one event: Limited Data Use (<c>data_processing_options: ["LDU"]</c> with a
/// country and a state), or none at all (<c>[]</c>, an explicit "not limited"). Set it on
/// <see cref="ConversionEvent.DataProcessingOptions"/> or with
/// <see cref="ConversionEventBuilder.WithDataProcessingOptions(DataProcessingOptions)"/>; events without one follow
/// <see cref="MetaConversionsOptions.LimitedDataUse"/>.
/// </summary>
public sealed record DataProcessingOptions
{
    private DataProcessingOptions(bool isLimitedDataUse, int country, int state)
    {
        IsLimitedDataUse = isLimitedDataUse;
        Country = country;
        State = state;
    }

    /// <summary>No processing limits: <c>data_processing_options: []</c>, which also overrides a global Limited Data Use.</summary>
    public static DataProcessingOptions None { get; } = new(false, 0, 0);

    /// <summary>Whether the event asks for Limited Data Use.</summary>
    public bool IsLimitedDataUse { get; }

    /// <summary><c>data_processing_options_country</c>: 1 for the United States, 0 to let Meta geolocate.</summary>
    public int Country { get; }

    /// <summary><c>data_processing_options_state</c>: Meta's state code such as 1000 (California), 0 to let Meta geolocate.</summary>
    public int State { get; }

    /// <summary>Limited Data Use, by default with the visitor's location left to Meta (country 0, state 0).</summary>
    /// <param name="country">1 for the United States, or 0 to let Meta geolocate.</param>
    /// <param name="state">Meta's state code, such as 1000 for California, or 0 to let Meta geolocate.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A country other than 0 or 1, a negative state, or a state without the United States.</exception>
    public static DataProcessingOptions LimitedDataUse(int country = 0, int state = 0) =>
        Problem(country, state) is { } problem
            ? throw new ArgumentOutOfRangeException(nameof(country), problem)
            : new DataProcessingOptions(true, country, state);

    /// <summary>What is wrong with a country and state pair, or <see langword="null"/>; shared with the options' validator.</summary>
    internal static string? Problem(int country, int state) =>
        country is not (0 or 1) ? $"the country must be 1 (United States) or 0 (Meta geolocates); got {country}"
        : state < 0 ? $"the state must be Meta's state code, such as 1000 (California), or 0 (Meta geolocates); got {state}"
        : state != 0 && country != 1 ? $"a state ({state}) needs the country 1 (United States)"
        : null;
}
