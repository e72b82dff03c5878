using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Shop.Models;

/// <summary>What the checkout form posts. The sample does not validate these: the library decides what is sent.</summary>
public sealed class CheckoutForm
{
    public string? ProductId { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public string? City { get; set; }
    public string? State { get; set; }
    public string? Zip { get; set; }
    public string? Country { get; set; }

    /// <summary><c>later</c>: pay through the (stand-in) payment provider; the order is confirmed by its webhook.</summary>
    public string? Payment { get; set; }
}

/// <summary>What the registration form posts.</summary>
public sealed class RegisterForm
{
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public string? DateOfBirth { get; set; }
    public string? Gender { get; set; }
    public string? City { get; set; }
    public string? State { get; set; }
    public string? Zip { get; set; }
    public string? Country { get; set; }
}

public sealed record Order(string Id, Product Product, int Quantity, decimal Total, string? Email)
{
    /// <summary>False while a payment provider has not confirmed it (<c>payment=later</c>).</summary>
    public bool Paid { get; init; } = true;
}

public sealed record Customer(string Id, string? FirstName, string? Email);

/// <summary>The sample's in-memory order book and customer list.</summary>
public sealed class Store
{
    private readonly ConcurrentDictionary<string, Order> _orders = new();
    private readonly ConcurrentDictionary<string, Customer> _customers = new();

    public Order PlaceOrder(Product product, CheckoutForm form)
    {
        // Unique across restarts, so order numbers can serve as event IDs.
        var order = new Order(NewId("ord"), product, 1, product.Price, form.Email);
        _orders[order.Id] = order;
        return order;
    }

    /// <summary>An order waiting for the payment provider's confirmation.</summary>
    public Order PlacePendingOrder(Product product, CheckoutForm form)
    {
        var order = new Order(NewId("ord"), product, 1, product.Price, form.Email) { Paid = false };
        _orders[order.Id] = order;
        return order;
    }

    public Order? FindOrder(string? id) => id is not null && _orders.TryGetValue(id, out var order) ? order : null;

    /// <summary>Marks a pending order paid; false when it was paid already (a webhook delivered twice).</summary>
    public bool MarkPaid(Order order) => !order.Paid && _orders.TryUpdate(order.Id, order with { Paid = true }, order);

    public Customer Register(RegisterForm form)
    {
        var customer = new Customer(NewId("cus"), form.FirstName, form.Email);
        _customers[customer.Id] = customer;
        return customer;
    }

    public Customer? FindCustomer(string? id) => id is not null && _customers.TryGetValue(id, out var c) ? c : null;

    private static string NewId(string prefix) => $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
}
