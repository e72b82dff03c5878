using System.Collections.Immutable;
using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using CapiMiddleware.Tests.Infrastructure;

namespace CapiMiddleware.Tests.Packaging;

/// <summary>
/// What <c>dotnet pack</c> makes of the library: the .nupkg a site owner installs and the .snupkg beside it. (The npm
/// package is checked by client/test/package.test.mjs.)
/// </summary>
[Collection(PackagingSuite.Name)]
public sealed class PackageTests(PackedLibrary packed) : IClassFixture<PackedLibrary>
{
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    private static string Root => NodeProcess.RepositoryRoot;

    /// <summary>The version every build of the library carries: Directory.Build.props's, without the commit suffix.</summary>
    private static string Version { get; } = typeof(MetaConversionAttribute).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    [Fact]
    public void The_package_holds_the_library_its_docs_readme_and_licence_and_nothing_else()
    {
        using var zip = PackedLibrary.Open(packed.PackageFile);
        var files = zip.Entries.Select(e => e.FullName)
            .Where(n => !n.StartsWith("_rels/", StringComparison.Ordinal) && !n.StartsWith("package/", StringComparison.Ordinal) && n != "[Content_Types].xml")
            .Order(StringComparer.Ordinal);

        Assert.Equal(
            ["CapiMiddleware.nuspec", "LICENSE", "README.md", "lib/net10.0/CapiMiddleware.dll", "lib/net10.0/CapiMiddleware.xml"],
            files);
        Assert.Equal(File.ReadAllText(Path.Combine(Root, "LICENSE")), ReadText(zip, "LICENSE"));
        Assert.Equal(File.ReadAllText(Path.Combine(Root, "src", "CapiMiddleware", "README.md")), ReadText(zip, "README.md"));
        Assert.Contains(
            "<member name=\"M:Microsoft.Extensions.DependencyInjection.MetaConversionsServiceCollectionExtensions.AddMetaConversions(",
            ReadText(zip, "lib/net10.0/CapiMiddleware.xml"),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_nuspec_names_the_package_its_version_licence_readme_release_notes_and_commit()
    {
        using var zip = PackedLibrary.Open(packed.PackageFile);
        var nuspec = XDocument.Parse(ReadText(zip, "CapiMiddleware.nuspec"));
        var ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        string? Value(string name) => metadata.Element(ns + name)?.Value;

        Assert.Equal("CapiMiddleware", Value("id"));
        Assert.Equal(Version, Value("version"));
        Assert.Equal("expression", metadata.Element(ns + "license")!.Attribute("type")!.Value);
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.Equal("CapiMiddleware contributors", Value("authors"));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));

        // The release notes are this version's section of CHANGELOG.md, from the line after its heading on.
        var changelog = File.ReadAllText(Path.Combine(Root, "CHANGELOG.md")).ReplaceLineEndings("\n");
        var heading = Regex.Match(changelog, $@"^## \[{Regex.Escape(Version)}\].*$", RegexOptions.Multiline);
        Assert.True(heading.Success, $"CHANGELOG.md has no section for {Version}");
        var notes = Value("releaseNotes")!.ReplaceLineEndings("\n");
        Assert.StartsWith("### ", notes, StringComparison.Ordinal);
        Assert.Contains(notes, changelog[heading.Index..], StringComparison.Ordinal);
        Assert.DoesNotContain("\n## ", notes, StringComparison.Ordinal);

        // SourceLink: the commit the package was built from (the repository URL too, once the clone has an origin).
        var head = await PackedLibrary.GitAsync("rev-parse", "HEAD");
        var repository = metadata.Element(ns + "repository");
        if (head is null)
        {
            Assert.Null(repository?.Attribute("commit"));
        }
        else
        {
            Assert.Equal(head, repository?.Attribute("commit")?.Value);
        }

        // The stores' drivers are in their own packages: a site on the memory outbox installs neither.
        var dependencies = metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["Polly.Core"], dependencies);
        Assert.DoesNotContain("Microsoft.Data.Sqlite", dependencies);
        Assert.DoesNotContain("StackExchange.Redis", dependencies);
        Assert.Equal("Microsoft.AspNetCore.App", Assert.Single(metadata.Descendants(ns + "frameworkReference")).Attribute("name")!.Value);
    }

    [Fact]
    public void The_library_in_the_package_embeds_the_built_snippet_with_the_package_version()
    {
        using var zip = PackedLibrary.Open(packed.PackageFile);
        using var pe = new PEReader(ReadBytes(zip, "lib/net10.0/CapiMiddleware.dll").ToImmutableArray());
        var metadata = pe.GetMetadataReader();

        var snippet = Encoding.UTF8.GetString(ReadResource(pe, metadata, "CapiMiddleware.meta-capi.js"));

        Assert.Equal(File.ReadAllText(Path.Combine(Root, "client", "dist", "meta-capi.js")), snippet);
        Assert.StartsWith($"/*! capimiddleware-snippet v{Version} |", snippet, StringComparison.Ordinal);
        Assert.Equal("CapiMiddleware", metadata.GetString(metadata.GetAssemblyDefinition().Name));
        Assert.DoesNotContain(metadata.AssemblyReferences, r => metadata.GetString(metadata.GetAssemblyReference(r).Name) is "Shop" or "CapiMiddleware.Tests");
    }

    [Fact]
    public void The_symbol_package_has_a_deterministic_pdb_with_the_untracked_sources_embedded()
    {
        using var zip = PackedLibrary.Open(packed.SymbolPackageFile);
        using var dll = PackedLibrary.Open(packed.PackageFile);
        using var provider = MetadataReaderProvider.FromPortablePdbImage(ReadBytes(zip, "lib/net10.0/CapiMiddleware.pdb").ToImmutableArray());
        var pdb = provider.GetMetadataReader();
        using var pe = new PEReader(ReadBytes(dll, "lib/net10.0/CapiMiddleware.dll").ToImmutableArray());

        // The PDB belongs to the packed dll (same id), and its paths are the CI build's /_/ ones, not this machine's.
        var codeView = Assert.Single(pe.ReadDebugDirectory(), d => d.Type == DebugDirectoryEntryType.CodeView);
        Assert.Equal(pe.ReadCodeViewDebugDirectoryData(codeView).Guid, new BlobContentId(pdb.DebugMetadataHeader!.Id).Guid);
        var documents = pdb.Documents.Select(d => pdb.GetString(pdb.GetDocument(d).Name)).ToList();
        Assert.Contains("/_/src/CapiMiddleware/Serving/SnippetFile.cs", documents);
        Assert.All(documents, d => Assert.StartsWith("/_/", d, StringComparison.Ordinal));

        // Generated files are in no repository: EmbedUntrackedSources puts them in the PDB itself.
        var embedded = pdb.Documents
            .Where(d => pdb.GetCustomDebugInformation(d).Any(c => pdb.GetGuid(pdb.GetCustomDebugInformation(c).Kind) == EmbeddedSourceKind))
            .Select(d => pdb.GetString(pdb.GetDocument(d).Name))
            .ToList();
        Assert.Contains(embedded, d => d.EndsWith(".AssemblyInfo.cs", StringComparison.Ordinal));
        Assert.DoesNotContain("/_/src/CapiMiddleware/Serving/SnippetFile.cs", embedded);
    }

    [Theory]
    [InlineData("CapiMiddleware.Outbox.Sqlite", "Microsoft.Data.Sqlite")]
    [InlineData("CapiMiddleware.Outbox.Redis", "StackExchange.Redis")]
    [InlineData("CapiMiddleware.Outbox.Testing", "Microsoft.Extensions.TimeProvider.Testing,Xunit.SkippableFact,xunit.assert,xunit.extensibility.core,xunit.extensibility.execution")]
    public void Each_store_package_holds_its_library_readme_and_licence_and_depends_on_the_library_of_its_version(string id, string drivers)
    {
        using var zip = PackedLibrary.Open(packed.PackageFileOf(id));
        var files = zip.Entries.Select(e => e.FullName)
            .Where(n => !n.StartsWith("_rels/", StringComparison.Ordinal) && !n.StartsWith("package/", StringComparison.Ordinal) && n != "[Content_Types].xml")
            .Order(StringComparer.Ordinal);
        Assert.Equal([$"{id}.nuspec", "LICENSE", "README.md", $"lib/net10.0/{id}.dll", $"lib/net10.0/{id}.xml"], files);
        Assert.Equal(File.ReadAllText(Path.Combine(Root, "src", id, "README.md")), ReadText(zip, "README.md"));

        // The same metadata as the library's: one version, one licence, one changelog, one commit.
        var nuspec = XDocument.Parse(ReadText(zip, $"{id}.nuspec"));
        var ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        string? Value(string name) => metadata.Element(ns + name)?.Value;
        Assert.Equal((id, Version, "MIT", "README.md", "CapiMiddleware contributors"), (Value("id"), Value("version"), Value("license"), Value("readme"), Value("authors")));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));
        using (var library = PackedLibrary.Open(packed.PackageFile))
        {
            var libraryMetadata = XDocument.Parse(ReadText(library, "CapiMiddleware.nuspec")).Root!.Element(ns + "metadata")!;
            Assert.Equal(libraryMetadata.Element(ns + "releaseNotes")!.Value, Value("releaseNotes"));
            Assert.Equal(libraryMetadata.Element(ns + "repository")?.Attribute("commit")?.Value, metadata.Element(ns + "repository")?.Attribute("commit")?.Value);
        }

        var dependencies = metadata.Descendants(ns + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
        Assert.Equal(Version, dependencies["CapiMiddleware"]);
        Assert.Equal(["CapiMiddleware", .. drivers.Split(',')], dependencies.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_scratch_app_built_from_the_packed_packages_queues_an_event_in_the_sqlite_outbox()
    {
        // Outside the repository, so none of its Directory.*.props apply; the packed folder and the machine's package
        // cache are the only sources (no network), and the packages are restored into a folder of the app's own, so an
        // earlier pack of the same version in the machine's cache cannot stand in for this one.
        var scratch = Directory.CreateTempSubdirectory("capi-scratch-").FullName;
        try
        {
            var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            await File.WriteAllTextAsync(Path.Combine(scratch, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="packed" value="{packed.PackageFolder}" />
                    <add key="cache" value="{cache}" />
                  </packageSources>
                </configuration>
                """);
            await File.WriteAllTextAsync(Path.Combine(scratch, "Scratch.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk.Web">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="CapiMiddleware" Version="{Version}" />
                    <PackageReference Include="CapiMiddleware.Outbox.Sqlite" Version="{Version}" />
                    <PackageReference Include="CapiMiddleware.Outbox.Redis" Version="{Version}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(scratch, "Program.cs"), """
                using CapiMiddleware;

                var builder = WebApplication.CreateSlimBuilder(args);
                builder.Services.AddMetaConversions(o =>
                {
                    o.PixelId = "1234567890";
                    o.Outbox.Provider = "sqlite";
                    o.Outbox.Path = args[0];
                });
                builder.Services.AddSqliteOutbox();
                builder.Services.AddRedisOutbox(); // compiles against the Redis package; the options choose sqlite

                // The host is not started: the sender would take the event out of the file as soon as it is in.
                await using var app = builder.Build();
                var queued = await app.Services.GetRequiredService<IConversionQueue>().EnqueueAsync(new ConversionEvent(MetaEventNames.Purchase)
                {
                    EventId = "scratch-order-1",
                    ActionSource = ActionSource.PhysicalStore,
                    UserData = new UserData { Email = "buyer@example.com" },
                    CustomData = new CustomData { Value = 12.5m, Currency = "EUR", OrderId = "scratch-order-1" },
                });
                var store = app.Services.GetRequiredService<IOutboxStore>();
                Console.WriteLine($"queued: {queued}, durable: {store.IsDurable}, held: {await store.CountAsync(default)}");
                """);

            var packages = Path.Combine(scratch, "packages");
            await PackedLibrary.RunDotnetInAsync(scratch, "restore", "Scratch.csproj", "--configfile", "nuget.config", "--packages", packages, "--disable-build-servers");
            var outbox = Path.Combine(scratch, "data", "outbox.db");
            var output = await PackedLibrary.RunDotnetInAsync(scratch, "run", "--project", "Scratch.csproj", "--no-restore", "--disable-build-servers", "--", outbox);

            Assert.Contains("queued: True, durable: True, held: 1", output);
            Assert.True(Directory.Exists(Path.Combine(packages, "capimiddleware.outbox.sqlite", Version)));
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={outbox};Mode=ReadOnly;Pooling=false");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT event_name, event_id FROM outbox WHERE dead_at IS NULL";
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(("Purchase", "scratch-order-1"), (reader.GetString(0), reader.GetString(1)));
            Assert.False(await reader.ReadAsync());
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public async Task Only_the_projects_under_src_are_packable()
    {
        var solution = await File.ReadAllTextAsync(Path.Combine(Root, "CapiMiddleware.sln"));
        var projects = Regex.Matches(solution, @"""([^""]+\.csproj)""").Select(m => m.Groups[1].Value.Replace('\\', '/')).ToList();
        Assert.Contains("src/CapiMiddleware/CapiMiddleware.csproj", projects);

        var packable = await Task.WhenAll(projects.Select(async p =>
        {
            var output = await PackedLibrary.RunDotnetAsync("msbuild", Path.Combine(Root, p), "-getProperty:IsPackable", "-nologo");
            return (Project: p, IsPackable: output.Trim());
        }));

        Assert.Equal(
            PackedLibrary.PackageIds.Select(id => $"src/{id}/{id}.csproj").Order(StringComparer.Ordinal),
            packable.Where(p => p.IsPackable == "true").Select(p => p.Project).Order(StringComparer.Ordinal));
        Assert.All(packable, p => Assert.Contains(p.IsPackable, new[] { "true", "false" }));
    }

    private static string ReadText(ZipArchive zip, string name)
    {
        using var reader = new StreamReader(new MemoryStream(ReadBytes(zip, name)), Encoding.UTF8); // drops a BOM
        return reader.ReadToEnd();
    }

    private static byte[] ReadBytes(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new Xunit.Sdk.XunitException($"{name} is not in the package");
        using var stream = entry.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    // A managed resource is a length-prefixed blob at its offset in the CLI header's resources directory.
    private static byte[] ReadResource(PEReader pe, MetadataReader metadata, string name)
    {
        var resource = metadata.ManifestResources.Select(metadata.GetManifestResource)
            .Where(r => metadata.GetString(r.Name) == name)
            .Select(r => (ManifestResource?)r)
            .SingleOrDefault() ?? throw new Xunit.Sdk.XunitException($"no resource {name} in the dll");
        var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
        var reader = pe.GetSectionData(directory.RelativeVirtualAddress).GetReader((int)resource.Offset, directory.Size - (int)resource.Offset);
        return reader.ReadBytes(reader.ReadInt32());
    }
}

/// <summary>A pack compiles the library again, keeping both cores busy: it runs alone, after the other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackagingSuite
{
    public const string Name = "Packaging";
}
