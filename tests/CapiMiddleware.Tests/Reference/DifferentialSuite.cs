namespace CapiMiddleware.Tests.Reference;

/// <summary>
/// The differential suites (tens of thousands of comparisons with Meta's Parameter Builder) keep both cores busy for
/// seconds; they run alone, after the other tests, so they never slow a test that measures time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DifferentialSuite
{
    public const string Name = "Differential suites against Meta's Parameter Builder";
}
