using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace CapiMiddleware;

/// <summary>
/// Meta's standard event names. The Pixel sends these with <c>fbq('track', ...)</c>; any other name is a
/// custom event, sent with <c>fbq('trackCustom', ...)</c>. Names are case-sensitive: <c>purchase</c> is a
/// custom event, not a <c>Purchase</c>, and does not deduplicate with one.
/// </summary>
public static class MetaEventNames
{
#pragma warning disable CS1591 // Each constant is the standard event of the same name.
    public const string PageView = nameof(PageView);
    public const string ViewContent = nameof(ViewContent);
    public const string Search = nameof(Search);
    public const string AddToCart = nameof(AddToCart);
    public const string AddToWishlist = nameof(AddToWishlist);
    public const string InitiateCheckout = nameof(InitiateCheckout);
    public const string AddPaymentInfo = nameof(AddPaymentInfo);
    public const string Purchase = nameof(Purchase);
    public const string Lead = nameof(Lead);
    public const string CompleteRegistration = nameof(CompleteRegistration);
    public const string Contact = nameof(Contact);
    public const string CustomizeProduct = nameof(CustomizeProduct);
    public const string Donate = nameof(Donate);
    public const string FindLocation = nameof(FindLocation);
    public const string Schedule = nameof(Schedule);
    public const string StartTrial = nameof(StartTrial);
    public const string SubmitApplication = nameof(SubmitApplication);
    public const string Subscribe = nameof(Subscribe);
#pragma warning restore CS1591

    private static readonly FrozenSet<string> Standard = new[]
    {
        PageView, ViewContent, Search, AddToCart, AddToWishlist, InitiateCheckout, AddPaymentInfo, Purchase,
        Lead, CompleteRegistration, Contact, CustomizeProduct, Donate, FindLocation, Schedule, StartTrial,
        SubmitApplication, Subscribe,
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="eventName"/> is one of Meta's standard events (exact, case-sensitive match).</summary>
    /// <param name="eventName">The event name.</param>
    /// <returns><see langword="true"/> for a standard event; <see langword="false"/> for a custom one.</returns>
    public static bool IsStandard(string eventName) => Standard.Contains(eventName);

    /// <summary>The longest event name sent.</summary>
    internal const int MaxLength = 100;

    /// <summary>
    /// Why Meta would refuse <paramref name="eventName"/>, or <see langword="null"/> when it may be sent: 1 to
    /// <see cref="MaxLength"/> characters, not only white space, and no control, line-separator or invisible
    /// formatting characters (an app that builds names from input could otherwise forge log lines with them).
    /// </summary>
    internal static string? Problem(string? eventName)
    {
        if (string.IsNullOrWhiteSpace(eventName) || eventName.Length > MaxLength)
        {
            return $"the event name must be 1 to {MaxLength} characters, not only white space";
        }

        foreach (var c in eventName)
        {
            if (char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return $"the event name contains the control or formatting character U+{(int)c:X4}";
            }
        }

        return null;
    }

    /// <summary>Refuses an event name Meta would refuse, at the call that names it.</summary>
    /// <exception cref="ArgumentException">The name is empty, too long, or has control or formatting characters.</exception>
    internal static string Require(string? eventName, [CallerArgumentExpression(nameof(eventName))] string? parameterName = null)
    {
        ArgumentNullException.ThrowIfNull(eventName, parameterName);
        return Problem(eventName) is { } problem
            ? throw new ArgumentException($"Meta refuses this event name: {problem}.", parameterName)
            : eventName;
    }
}
