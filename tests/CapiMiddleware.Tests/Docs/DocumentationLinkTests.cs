using System.Text;
using System.Text.RegularExpressions;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Docs;

/// <summary>
/// The README and the pages under docs/ point at each other: every relative link and every <c>#anchor</c> in them
/// must reach an existing file and heading (as GitHub renders them), every page must be reachable from the README,
/// and the NuGet package's README, which nuget.org renders without the repository, links nowhere relatively.
/// </summary>
public sealed partial class DocumentationLinkTests
{
    private static string Root => NodeProcess.RepositoryRoot;

    /// <summary>The repository's Markdown that links into the repository.</summary>
    public static TheoryData<string> LinkingFiles()
    {
        var files = new TheoryData<string>("README.md", "SECURITY.md", "CHANGELOG.md", Path.Combine("client", "README.md"));
        foreach (var page in Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            files.Add(Path.GetRelativePath(Root, page));
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(LinkingFiles))]
    public void Every_relative_link_reaches_a_file_and_every_anchor_a_heading(string file)
    {
        var broken = new List<string>();
        foreach (var (line, target) in Links(Path.Combine(Root, file)))
        {
            if (IsAbsolute(target))
            {
                continue;
            }

            var hash = target.IndexOf('#');
            var path = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
            var resolved = path.Length == 0
                ? Path.Combine(Root, file)
                : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.Combine(Root, file))!, Uri.UnescapeDataString(path)));

            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add($"{file}:{line}: {target}: no such file");
            }
            else if (anchor is not null && !(resolved.EndsWith(".md", StringComparison.Ordinal) && Anchors(resolved).Contains(anchor)))
            {
                broken.Add($"{file}:{line}: {target}: no heading with the anchor #{anchor} in {Path.GetRelativePath(Root, resolved)}");
            }
        }

        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void Every_page_under_docs_is_linked_from_the_README()
    {
        var linked = Links(Path.Combine(Root, "README.md"))
            .Select(l => l.Target.Split('#')[0])
            .Where(t => t.StartsWith("docs/", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        var unlinked = Directory.GetFiles(Path.Combine(Root, "docs"), "*.md")
            .Select(p => "docs/" + Path.GetFileName(p))
            .Where(p => !linked.Contains(p))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(unlinked.Count == 0, "Pages the README does not link: " + string.Join(", ", unlinked));
    }

    [Fact]
    public void The_NuGet_README_has_no_relative_links_since_nuget_org_renders_it_without_the_repository()
    {
        var relative = Links(Path.Combine(Root, "src", "CapiMiddleware", "README.md")).Where(l => !IsAbsolute(l.Target)).ToList();

        Assert.True(relative.Count == 0, "Relative links: " + string.Join(", ", relative.Select(l => $"line {l.Line}: {l.Target}")));
    }

    [Fact]
    public void The_README_keeps_the_two_commands_that_CI_and_newcomers_run()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));

        Assert.Contains("dotnet run --project samples/Shop          # the sample shop at http://localhost:5080", readme, StringComparison.Ordinal);
        Assert.Contains("./test.sh                                  # installs what the tests need (npm ci), runs every test, C# and JavaScript", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void Anchors_follow_GitHub_s_rules()
    {
        Assert.Equal("for-front-end-developers-the-snippet", Slug("For front-end developers: the snippet"));
        Assert.Equal("7-ten-minutes-with-a-three-minute-meta-outage----soak", Slug("7. Ten minutes with a three-minute Meta outage (`-- soak`)"));
        Assert.Equal("the-browsers-ip-address-_fbi", Slug("The browser's IP address (`_fbi`)"));
        Assert.Equal("see-the-outbox", Slug("See [the outbox](outbox.md)"));
    }

    private static bool IsAbsolute(string target) =>
        target.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || target.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || target.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase);

    /// <summary>The inline links and images of a Markdown file, outside fenced code blocks and code spans.</summary>
    private static IEnumerable<(int Line, string Target)> Links(string path)
    {
        var inFence = false;
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                continue;
            }

            foreach (Match link in InlineLink().Matches(CodeSpan().Replace(line, "")))
            {
                yield return (number, link.Groups["target"].Value);
            }
        }
    }

    /// <summary>The anchors GitHub gives the headings of a Markdown file, duplicates numbered as it numbers them.</summary>
    private static HashSet<string> Anchors(string path)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var inFence = false;
        foreach (var line in File.ReadLines(path))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            var heading = inFence ? null : Heading().Match(line);
            if (heading is null || !heading.Success)
            {
                continue;
            }

            var slug = Slug(heading.Groups["text"].Value);
            var count = seen.GetValueOrDefault(slug);
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
            seen[slug] = count + 1;
        }

        return anchors;
    }

    /// <summary>GitHub's anchor of a heading: its rendered text in lower case, punctuation dropped, spaces as hyphens.</summary>
    private static string Slug(string heading)
    {
        var text = InlineLink().Replace(heading, m => m.Groups["text"].Value).ToLowerInvariant();
        var slug = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    [GeneratedRegex(@"!?\[(?<text>[^\]]*)\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*\s*$")]
    private static partial Regex Heading();
}
