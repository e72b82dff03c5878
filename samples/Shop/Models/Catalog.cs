namespace Shop.Models;

/// <summary>A product of the sample shop.</summary>
public sealed record Product(string Id, string Name, decimal Price, string Description);

/// <summary>The sample's fixed catalogue.</summary>
public sealed class Catalog
{
    public IReadOnlyList<Product> Products { get; } =
    [
        new("1", "Espresso cup", 12.50m, "A thick-walled porcelain cup that keeps espresso hot."),
        new("2", "Pour-over kettle", 48.00m, "A gooseneck kettle for a slow, even pour."),
        new("3", "Burr grinder", 129.90m, "Conical steel burrs, forty grind settings."),
        new("4", "Coffee beans, 1 kg", 24.00m, "Washed Ethiopian, roasted light."),
    ];

    public Product? Find(string? id) => Products.FirstOrDefault(p => p.Id == id);
}
