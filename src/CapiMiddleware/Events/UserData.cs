namespace CapiMiddleware;

/// <summary>
/// What is known about the person behind a conversion, as the site has it: raw, unhashed values.
/// The library normalizes and SHA-256 hashes the personal fields exactly once, on the way to Meta, by Meta's rules;
/// a field whose value is invalid is dropped (that field only, never the event). Values that are already
/// SHA-256 hashes (64 hexadecimal characters) are passed through, never hashed twice.
/// </summary>
/// <remarks>
/// <see cref="ClickId"/>, <see cref="BrowserId"/>, <see cref="ClientIpAddress"/> and <see cref="ClientUserAgent"/>
/// are filled from the request when an event comes from a web request; they are sent unhashed, as Meta requires.
/// </remarks>
public sealed class UserData
{
    private List<string>? _moreEmails;
    private List<string>? _morePhones;
    private List<string>? _moreExternalIds;

    /// <summary>Email address (<c>em</c>). Trimmed and lowercased before hashing.</summary>
    public string? Email { get; set; }

    /// <summary>Phone number with country code (<c>ph</c>). Only the digits are kept; no country code is invented.</summary>
    public string? Phone { get; set; }

    /// <summary>First name (<c>fn</c>).</summary>
    public string? FirstName { get; set; }

    /// <summary>Last name (<c>ln</c>).</summary>
    public string? LastName { get; set; }

    /// <summary>Gender (<c>ge</c>): <c>m</c>, <c>f</c>, or a common word such as <c>female</c>.</summary>
    public string? Gender { get; set; }

    /// <summary>Date of birth (<c>db</c>) in a common format, such as <c>1990-02-28</c> or <c>02/28/1990</c>.</summary>
    public string? DateOfBirth { get; set; }

    /// <summary>City (<c>ct</c>).</summary>
    public string? City { get; set; }

    /// <summary>State or province (<c>st</c>): a two-letter code, or a US state or Canadian province name.</summary>
    public string? State { get; set; }

    /// <summary>Postal code (<c>zp</c>).</summary>
    public string? Zip { get; set; }

    /// <summary>Country (<c>country</c>): an ISO 3166-1 alpha-2 code, or a country name.</summary>
    public string? Country { get; set; }

    /// <summary>The site's own identifier for the person, such as a customer number (<c>external_id</c>).</summary>
    public string? ExternalId { get; set; }

    /// <summary>The click ID (<c>fbc</c>), the value of the <c>_fbc</c> cookie. Sent unhashed.</summary>
    public string? ClickId { get; set; }

    /// <summary>The browser ID (<c>fbp</c>), the value of the <c>_fbp</c> cookie. Sent unhashed.</summary>
    public string? BrowserId { get; set; }

    /// <summary>The visitor's IP address (<c>client_ip_address</c>). Sent unhashed.</summary>
    public string? ClientIpAddress { get; set; }

    /// <summary>The visitor's browser user agent (<c>client_user_agent</c>). Sent unhashed.</summary>
    public string? ClientUserAgent { get; set; }

    /// <summary>Adds another email address besides <see cref="Email"/>; Meta matches on any of them.</summary>
    /// <param name="email">The email address.</param>
    /// <returns>This instance.</returns>
    public UserData AddEmail(string email) => Add(ref _moreEmails, email);

    /// <summary>Adds another phone number besides <see cref="Phone"/>; Meta matches on any of them.</summary>
    /// <param name="phone">The phone number, with country code.</param>
    /// <returns>This instance.</returns>
    public UserData AddPhone(string phone) => Add(ref _morePhones, phone);

    /// <summary>Adds another external ID besides <see cref="ExternalId"/>.</summary>
    /// <param name="externalId">The identifier.</param>
    /// <returns>This instance.</returns>
    public UserData AddExternalId(string externalId) => Add(ref _moreExternalIds, externalId);

    internal IReadOnlyList<string>? MoreEmails => _moreEmails;

    internal IReadOnlyList<string>? MorePhones => _morePhones;

    internal IReadOnlyList<string>? MoreExternalIds => _moreExternalIds;

    private UserData Add(ref List<string>? list, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        (list ??= []).Add(value);
        return this;
    }
}
