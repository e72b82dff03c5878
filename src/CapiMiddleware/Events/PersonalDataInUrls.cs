using System.Collections.Frozen;
using System.Text;

namespace CapiMiddleware.Events;

/// <summary>
/// Removes personal data from the URLs an event carries (<c>event_source_url</c>, <c>referrer_url</c>): a form that
/// submits by GET, or a link in an email, puts <c>?email=…</c> in the page URL, and Meta flags events whose URLs carry
/// personal data. A query parameter goes when its name is that of a user field (<c>email</c>, <c>phone</c>, <c>em</c>,
/// <c>first_name</c>…) or one the site lists (<see cref="MetaConversionsOptions.PersonalDataQueryParameters"/>), or when
/// its value looks like an email address or a formatted phone number. The rest of the URL stays as it was, byte for
/// byte; a URL with nothing to remove is returned as the same string, without allocating.
/// </summary>
internal sealed class PersonalDataInUrls
{
    /// <summary>The names of the user fields, as the typed API, Meta's wire format and common forms spell them (compared without case, <c>_</c>, <c>-</c> or <c>.</c>).</summary>
    private static readonly string[] BuiltInNames =
    [
        "email", "emailaddress", "mail", "em", "phone", "phonenumber", "tel", "telephone", "mobile", "ph",
        "firstname", "fname", "fn", "lastname", "lname", "surname", "ln", "fullname", "name",
        "dateofbirth", "dob", "birthday", "birthdate", "db", "gender", "ge",
        "city", "ct", "state", "st", "zip", "zipcode", "postcode", "postalcode", "zp", "country",
        "address", "street", "externalid",
    ];

    private const int MaxNameLength = 64;

    private readonly FrozenSet<string> _names;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _byName;

    /// <param name="extraNames">More parameter names to remove, from the site's configuration.</param>
    public PersonalDataInUrls(IEnumerable<string>? extraNames = null)
    {
        _names = BuiltInNames.Concat((extraNames ?? []).Select(n => Fold(n.AsSpan()))).Where(n => n.Length > 0).ToFrozenSet(StringComparer.Ordinal);
        _byName = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The built-in rules only.</summary>
    public static PersonalDataInUrls Default { get; } = new();

    /// <summary>The URL without its personal query parameters; <paramref name="removed"/> says how many went.</summary>
    public string? Scrub(string? url, out int removed)
    {
        removed = 0;
        var queryStart = url?.IndexOf('?') ?? -1;
        if (queryStart < 0)
        {
            return url;
        }

        var fragmentStart = url!.IndexOf('#', queryStart);
        var query = url.AsSpan(queryStart + 1, (fragmentStart < 0 ? url.Length : fragmentStart) - queryStart - 1);
        // Split here, not with QueryStringEnumerable: the URL is rebuilt from the pairs kept as they were sent, and the
        // enumerable hands out a pair's name and value, not the pair.
        foreach (var range in query.Split('&'))
        {
            if (IsPersonal(query[range]))
            {
                removed++;
            }
        }

        if (removed == 0)
        {
            return url;
        }

        var scrubbed = new StringBuilder(url.Length).Append(url, 0, queryStart);
        var separator = '?';
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (!pair.IsEmpty && !IsPersonal(pair))
            {
                scrubbed.Append(separator).Append(pair);
                separator = '&';
            }
        }

        return fragmentStart < 0 ? scrubbed.ToString() : scrubbed.Append(url, fragmentStart, url.Length - fragmentStart).ToString();
    }

    private bool IsPersonal(ReadOnlySpan<char> pair)
    {
        if (pair.IsEmpty)
        {
            return false;
        }

        var equals = pair.IndexOf('=');
        var name = Decode(equals < 0 ? pair : pair[..equals]);
        if (name.Length <= MaxNameLength)
        {
            Span<char> folded = stackalloc char[MaxNameLength];
            if (_byName.Contains(folded[..Fold(name, folded)]))
            {
                return true;
            }
        }

        var value = equals < 0 ? name : Decode(pair[(equals + 1)..]);
        return LooksLikeEmail(value) || LooksLikePhone(value);
    }

    /// <summary>A parameter name as compared: lower case, without <c>_</c>, <c>-</c>, <c>.</c>, spaces or a trailing <c>[]</c>.</summary>
    private static int Fold(ReadOnlySpan<char> name, Span<char> folded)
    {
        if (name.EndsWith("[]"))
        {
            name = name[..^2];
        }

        var length = 0;
        foreach (var c in name)
        {
            if (c is not ('_' or '-' or '.' or ' '))
            {
                folded[length++] = char.ToLowerInvariant(c);
            }
        }

        return length;
    }

    private static string Fold(ReadOnlySpan<char> name)
    {
        Span<char> folded = stackalloc char[Math.Min(name.Length, MaxNameLength)];
        return name.Length > MaxNameLength ? "" : folded[..Fold(name, folded)].ToString();
    }

    /// <summary>A query part as the application would read it; copied only when it is percent- or plus-encoded.</summary>
    private static ReadOnlySpan<char> Decode(ReadOnlySpan<char> encoded)
    {
        if (!encoded.ContainsAny('%', '+'))
        {
            return encoded;
        }

        var text = encoded.ToString().Replace('+', ' ');
        try
        {
            return Uri.UnescapeDataString(text);
        }
        catch (UriFormatException)
        {
            return text;
        }
    }

    /// <summary>Something@something.tld, anywhere in the value.</summary>
    internal static bool LooksLikeEmail(ReadOnlySpan<char> value)
    {
        for (var at = value.IndexOf('@'); at >= 0; at = NextAt(value, at))
        {
            var domain = value[(at + 1)..];
            var dot = domain.IndexOf('.');
            if (at > 0 && !char.IsWhiteSpace(value[at - 1]) && dot > 0 && dot < domain.Length - 1)
            {
                return true;
            }
        }

        return false;

        static int NextAt(ReadOnlySpan<char> value, int at)
        {
            var next = value[(at + 1)..].IndexOf('@');
            return next < 0 ? -1 : at + 1 + next;
        }
    }

    /// <summary>
    /// A phone number as people write one, and nothing else: 7 to 15 digits after a leading <c>+</c>
    /// (<c>+44 20 7946 0958</c>), or 9 to 15 digits with separators (<c>(555) 123-4567</c>, <c>555.123.4567</c>). A plain
    /// run of digits is an order or product number far more often than a phone number, and a date has 8 digits at
    /// most, so both stay unless the parameter's name says phone.
    /// </summary>
    internal static bool LooksLikePhone(ReadOnlySpan<char> value)
    {
        var digits = 0;
        var formatted = false;
        value = value.Trim();
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (c is '+' or '-' or '.' or ' ' or '(' or ')')
            {
                formatted = true;
            }
            else
            {
                return false;
            }
        }

        return value.StartsWith('+') ? digits is >= 7 and <= 15 : formatted && digits is >= 9 and <= 15;
    }
}
