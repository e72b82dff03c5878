using CapiMiddleware.Hashing;

namespace CapiMiddleware;

/// <summary>
/// What is known about the person behind a conversion, as the site has it: raw, unhashed values.
/// The library normalizes and SHA-256 hashes the personal fields exactly once, on the way to Meta, by Meta's rules;
/// a field whose value is invalid is dropped (that field only, never the event). Values that are already
/// SHA-256 hashes (64 hexadecimal characters) are passed through, never hashed twice.
/// </summary>
/// <remarks>
/// <para>
/// Every personal field takes several values: the property holds the first, and <c>AddEmail</c>, <c>AddPhone</c>,
/// <c>AddCity</c> and the other <c>Add…</c> methods add more (Meta gets an array). Each value is normalized and hashed
/// on its own; an invalid one is dropped, and values that are the same after normalization are sent once.
/// </para>
/// <para>
/// <see cref="ClickId"/>, <see cref="BrowserId"/>, <see cref="ClientIpAddress"/> and <see cref="ClientUserAgent"/>
/// are filled from the request when an event comes from a web request; they are sent unhashed, as Meta requires.
/// They take one value each.
/// </para>
/// </remarks>
public sealed class UserData
{
    private static readonly int FieldCount = Enum.GetValues<UserDataField>().Length;

    // Further values per field (indexed by UserDataField), beyond the single-value properties; most events have none.
    private List<string>?[]? _more;

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

    /// <summary>
    /// The ID of a lead from a Meta Lead Ads form (<c>lead_id</c>, the webhook's <c>leadgen_id</c>): 15 to 17 digits,
    /// sent unhashed. The strongest match for Conversion Leads CRM events. Meta refuses an event whose lead ID is
    /// invalid, so any other value is dropped (the field, not the event).
    /// </summary>
    public string? LeadId { get; set; }

    /// <summary>The person's ID from Facebook Login (<c>fb_login_id</c>), digits only; sent unhashed.</summary>
    public string? FacebookLoginId { get; set; }

    /// <summary>The ID of the person's subscription (<c>subscription_id</c>), such as for a StartTrial or Subscribe event; sent unhashed.</summary>
    public string? SubscriptionId { get; set; }

    /// <summary>The device's advertising ID (<c>madid</c>): the IDFA on iOS or the Google advertising ID on Android; sent unhashed.</summary>
    public string? AdvertisingId { get; set; }

    /// <summary>The app's install ID (<c>anon_id</c>), which tells one installation from another; sent unhashed.</summary>
    public string? InstallId { get; set; }

    /// <summary>
    /// The app's own ID for the person (<c>app_user_id</c>): trimmed, lowercased and hashed. Only the Node SDK 24.0.1
    /// sends it; the newer Python SDK 25.0.2 does not.
    /// </summary>
    public string? AppUserId { get; set; }

    /// <summary>
    /// The first name's first five characters (<c>f5first</c>): give the first name, the library trims, lowercases,
    /// keeps five characters and hashes them, as Meta's SDKs do.
    /// </summary>
    public string? FirstNamePrefix { get; set; }

    /// <summary>The last name's first five characters (<c>f5last</c>): give the last name; handled as <see cref="FirstNamePrefix"/>.</summary>
    public string? LastNamePrefix { get; set; }

    /// <summary>The first name's initial (<c>fi</c>): give the first name, its first character is lowercased and hashed.</summary>
    public string? FirstInitial { get; set; }

    /// <summary>The day of birth (<c>dobd</c>), <c>1</c> to <c>31</c>; sent as two digits, hashed. Any other value is dropped.</summary>
    public string? BirthDay { get; set; }

    /// <summary>The month of birth (<c>dobm</c>), <c>1</c> to <c>12</c>; sent as two digits, hashed. Any other value is dropped.</summary>
    public string? BirthMonth { get; set; }

    /// <summary>The year of birth (<c>doby</c>), four digits; hashed. Any other value is dropped.</summary>
    public string? BirthYear { get; set; }

    /// <summary>The Facebook Page the person messaged (<c>page_id</c>), digits only; sent unhashed. Needed, with <see cref="PageScopedUserId"/>, for Messenger events.</summary>
    public string? PageId { get; set; }

    /// <summary>The person's Page-scoped user ID (<c>page_scoped_user_id</c>) in Messenger, digits only; sent unhashed.</summary>
    public string? PageScopedUserId { get; set; }

    /// <summary>The click ID of a click-to-WhatsApp ad (<c>ctwa_clid</c>); sent unhashed. Needed, with <see cref="WhatsAppBusinessAccountId"/>, for WhatsApp events.</summary>
    public string? WhatsAppClickId { get; set; }

    /// <summary>The WhatsApp Business account of the conversation (<c>whatsapp_business_account_id</c>), digits only; sent unhashed.</summary>
    public string? WhatsAppBusinessAccountId { get; set; }

    /// <summary>The Instagram professional account of the conversation (<c>instagram_business_account_id</c>), digits only; sent unhashed. Needed, with <see cref="InstagramScopedUserId"/>, for Instagram events.</summary>
    public string? InstagramBusinessAccountId { get; set; }

    /// <summary>The person's Instagram-scoped user ID (<c>ig_sid</c>) in Instagram Direct, digits only; sent unhashed.</summary>
    public string? InstagramScopedUserId { get; set; }

    /// <summary>The person's Instagram account ID (<c>ig_account_id</c>), digits only; sent unhashed.</summary>
    public string? InstagramAccountId { get; set; }

    /// <summary>Adds another email address besides <see cref="Email"/>; Meta matches on any of them.</summary>
    /// <param name="email">The email address.</param>
    /// <returns>This instance.</returns>
    public UserData AddEmail(string email) => Add(UserDataField.Email, email);

    /// <summary>Adds another phone number besides <see cref="Phone"/>; Meta matches on any of them.</summary>
    /// <param name="phone">The phone number, with country code.</param>
    /// <returns>This instance.</returns>
    public UserData AddPhone(string phone) => Add(UserDataField.Phone, phone);

    /// <summary>Adds another first name besides <see cref="FirstName"/>, such as a maiden or a short name.</summary>
    /// <param name="firstName">The first name.</param>
    /// <returns>This instance.</returns>
    public UserData AddFirstName(string firstName) => Add(UserDataField.FirstName, firstName);

    /// <summary>Adds another last name besides <see cref="LastName"/>, such as a maiden name.</summary>
    /// <param name="lastName">The last name.</param>
    /// <returns>This instance.</returns>
    public UserData AddLastName(string lastName) => Add(UserDataField.LastName, lastName);

    /// <summary>Adds another gender besides <see cref="Gender"/>.</summary>
    /// <param name="gender"><c>m</c>, <c>f</c>, or a common word such as <c>female</c>.</param>
    /// <returns>This instance.</returns>
    public UserData AddGender(string gender) => Add(UserDataField.Gender, gender);

    /// <summary>Adds another date of birth besides <see cref="DateOfBirth"/>.</summary>
    /// <param name="dateOfBirth">The date in a common format, such as <c>1990-02-28</c>.</param>
    /// <returns>This instance.</returns>
    public UserData AddDateOfBirth(string dateOfBirth) => Add(UserDataField.DateOfBirth, dateOfBirth);

    /// <summary>Adds another city besides <see cref="City"/>, such as a billing city that differs from the shipping one.</summary>
    /// <param name="city">The city.</param>
    /// <returns>This instance.</returns>
    public UserData AddCity(string city) => Add(UserDataField.City, city);

    /// <summary>Adds another state or province besides <see cref="State"/>.</summary>
    /// <param name="state">A two-letter code, or a US state or Canadian province name.</param>
    /// <returns>This instance.</returns>
    public UserData AddState(string state) => Add(UserDataField.State, state);

    /// <summary>Adds another postal code besides <see cref="Zip"/>.</summary>
    /// <param name="zip">The postal code.</param>
    /// <returns>This instance.</returns>
    public UserData AddZip(string zip) => Add(UserDataField.Zip, zip);

    /// <summary>Adds another country besides <see cref="Country"/>.</summary>
    /// <param name="country">An ISO 3166-1 alpha-2 code, or a country name.</param>
    /// <returns>This instance.</returns>
    public UserData AddCountry(string country) => Add(UserDataField.Country, country);

    /// <summary>Adds another external ID besides <see cref="ExternalId"/>, such as an ID from a second system.</summary>
    /// <param name="externalId">The identifier.</param>
    /// <returns>This instance.</returns>
    public UserData AddExternalId(string externalId) => Add(UserDataField.ExternalId, externalId);

    /// <summary>The single-value property of a field.</summary>
    internal string? Get(UserDataField field) => field switch
    {
        UserDataField.Email => Email,
        UserDataField.Phone => Phone,
        UserDataField.FirstName => FirstName,
        UserDataField.LastName => LastName,
        UserDataField.Gender => Gender,
        UserDataField.DateOfBirth => DateOfBirth,
        UserDataField.City => City,
        UserDataField.State => State,
        UserDataField.Zip => Zip,
        UserDataField.Country => Country,
        UserDataField.ExternalId => ExternalId,
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, "Unknown user_data field."),
    };

    /// <summary>The values added to a field besides its property, in order; null when none.</summary>
    internal IReadOnlyList<string>? More(UserDataField field) => _more?[(int)field];

    /// <summary>Adds a value to a field by its kind: a captured identity's hashes, passed through as they are.</summary>
    internal UserData AddValue(UserDataField field, string value) => Add(field, value);

    private UserData Add(UserDataField field, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _more ??= new List<string>?[FieldCount];
        (_more[(int)field] ??= []).Add(value);
        return this;
    }
}
