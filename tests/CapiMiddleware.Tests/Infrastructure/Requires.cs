namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>
/// The one rule for tests that need something from outside the repository (a browser, a redis-server): where it is
/// missing, a developer's run skips the test and says how to install it; a CI run (<c>CI=true</c>, as GitHub Actions and
/// most CI services set it) fails it, so a broken CI image cannot turn the suite green by skipping.
/// </summary>
/// <remarks>
/// A test that uses it is a <c>[SkippableFact]</c> or <c>[SkippableTheory]</c>; a fixture that finds the prerequisite
/// missing records why (<see cref="Browser.Chromium.Unavailable"/>, <see cref="RedisServer.Unavailable"/>) and its
/// <c>Require()</c> comes here. Not for what no package can install (the CPU's vector width): such a test skips everywhere.
/// </remarks>
public static class Requires
{
    /// <summary>Whether this is a CI run: the <c>CI</c> environment variable is <c>true</c>.</summary>
    public static bool OnCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Chromium for the browser tests: Debian's <c>chromium</c> package, or <c>CHROMIUM_PATH</c>.</summary>
    public static void Chromium(Browser.Chromium chromium)
    {
        ArgumentNullException.ThrowIfNull(chromium);
        Prerequisite("chromium", chromium.Unavailable);
    }

    /// <summary>A redis-server for the Redis store tests: Debian's <c>redis-server</c> package.</summary>
    public static void Redis(RedisServer redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        Prerequisite("redis-server", redis.Unavailable);
    }

    /// <summary>The Native AOT toolchain for publishing a sample: Debian's <c>clang</c> (with <c>zlib1g-dev</c>, as CI installs them).</summary>
    public static void NativeToolchain(Sample.NativeAotMinimalApi sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        Prerequisite("clang zlib1g-dev", sample.Unavailable);
    }

    /// <summary>
    /// Goes on when <paramref name="unavailable"/> is null; otherwise skips the calling test, or fails it on CI, with
    /// <paramref name="unavailable"/> (which says how to install it) and the apt package <paramref name="aptPackage"/>.
    /// </summary>
    public static void Prerequisite(string aptPackage, string? unavailable)
    {
        if (unavailable is null)
        {
            return;
        }

        if (OnCi)
        {
            Assert.Fail($"{unavailable} On CI (CI=true) a missing prerequisite is a failure, not a skip: the image needs `apt-get install {aptPackage}`.");
        }

        Skip.If(true, $"{unavailable} (Skipped here; on CI, CI=true, it would fail.)");
    }
}
