using System.Collections.Frozen;
using System.Globalization;
using System.Net;

namespace CapiMiddleware.Cookies;

/// <summary>
/// The registrable domain of a host (its public suffix plus one label), by the Public Suffix List, as browsers decide
/// where a cookie may be set, and so where Meta's Pixel ends up writing <c>_fbc</c>/<c>_fbp</c>:
/// <c>www.example.co.uk</c> → <c>example.co.uk</c>, <c>a.b.example.com</c> → <c>example.com</c>,
/// <c>myshop.azurewebsites.net</c> → itself (a suffix of the list's private section). Both sections count, as they do
/// in browsers. The list is <c>public_suffix_list.dat</c>, embedded at build time (see docs/cookies.md for its snapshot and how
/// to refresh it); nothing is downloaded at run time.
/// </summary>
internal sealed class PublicSuffixList
{
    private const string ResourceName = "CapiMiddleware.public_suffix_list.dat";

    private static readonly Lazy<PublicSuffixList> Embedded = new(Load);

    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _rules;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _wildcards;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _exceptions;

    /// <param name="lines">The list's lines: rules, comments and blank lines, in the list's own syntax.</param>
    internal PublicSuffixList(IEnumerable<string> lines)
    {
        var rules = new List<string>();
        var wildcards = new List<string>();
        var exceptions = new List<string>();
        var idn = new IdnMapping();
        foreach (var raw in lines)
        {
            // A rule is the line's first word; comments start with "//".
            var line = raw.AsSpan().Trim();
            var space = line.IndexOfAny(' ', '\t');
            if (space >= 0)
            {
                line = line[..space];
            }

            if (line.IsEmpty || line.StartsWith("//"))
            {
                continue;
            }

            var target = line[0] == '!' ? exceptions : line.StartsWith("*.") ? wildcards : rules;
            var text = line[0] == '!' ? line[1..] : line.StartsWith("*.") ? line[2..] : line;
            if (Ascii(idn, text.ToString()) is { } ascii)
            {
                target.Add(ascii);
            }
        }

        _rules = rules.ToFrozenSet(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _wildcards = wildcards.ToFrozenSet(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _exceptions = exceptions.ToFrozenSet(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        Count = rules.Count + wildcards.Count + exceptions.Count;
    }

    /// <summary>The list this assembly carries.</summary>
    public static PublicSuffixList Default => Embedded.Value;

    /// <summary>How many rules the list holds.</summary>
    public int Count { get; }

    /// <summary>
    /// The registrable domain of <paramref name="host"/>, as a slice of it; empty when it has none: an IP address,
    /// <c>localhost</c>, a single label, or a host that is itself a public suffix (such as <c>co.uk</c>). Such hosts
    /// get host-only cookies.
    /// </summary>
    public ReadOnlySpan<char> RegistrableDomain(ReadOnlySpan<char> host)
    {
        if (host.EndsWith('.'))
        {
            host = host[..^1];
        }

        if (host.IsEmpty || host.Length > 253 || host.Contains(':') || host.IndexOf('.') < 0 || host[0] == '.' || host.IndexOf("..", StringComparison.Ordinal) >= 0
            || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || IPAddress.TryParse(host, out _))
        {
            return default;
        }

        // Walk the host's suffixes from the last label leftwards: "com", "example.com", "www.example.com".
        var suffixLabels = 1; // with no rule matching, the implicit rule "*": the last label
        var labels = 0;
        var start = host.Length;
        while (start > 0)
        {
            var dot = host[..(start - 1)].LastIndexOf('.');
            var previousStart = start;
            start = dot + 1;
            labels++;
            var suffix = host[start..];

            if (_exceptions.Contains(suffix))
            {
                // "!city.kawasaki.jp" undoes "*.kawasaki.jp" for that name: the suffix is one label shorter.
                suffixLabels = labels - 1;
                break;
            }

            if (_rules.Contains(suffix))
            {
                suffixLabels = labels;
            }

            // "*.ck" makes every "x.ck" a suffix: the rule matches when the part after this label is listed.
            if (previousStart < host.Length && _wildcards.Contains(host[previousStart..]))
            {
                suffixLabels = labels;
            }

            if (dot < 0)
            {
                break;
            }
        }

        // The registrable domain is the suffix and one more label.
        var index = host.Length;
        for (var i = 0; i <= suffixLabels; i++)
        {
            if (index <= 0)
            {
                return default; // the host is the suffix itself
            }

            var dot = host[..(index - 1)].LastIndexOf('.');
            index = dot + 1;
        }

        return host[index..];
    }

    private static string? Ascii(IdnMapping idn, string rule)
    {
        try
        {
            return idn.GetAscii(rule);
        }
        catch (ArgumentException)
        {
            return null; // no rule of a well-formed list fails; a broken line is skipped rather than fail start-up
        }
    }

    private static PublicSuffixList Load()
    {
        using var stream = typeof(PublicSuffixList).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the CapiMiddleware assembly.");
        using var reader = new StreamReader(stream);
        var lines = new List<string>(16_384);
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return new PublicSuffixList(lines);
    }
}
