using CapiMiddleware;
using Microsoft.AspNetCore.Mvc;
using Shop.Models;

namespace Shop.Controllers;

/// <summary>
/// The sample shop: browse, add to cart, check out, register. Each conversion is one attribute plus a few lines
/// that describe it; the library does the rest.
/// </summary>
public sealed class ShopController(Catalog catalog, Store store, IConfiguration configuration) : Controller
{
    private string Currency => configuration["Shop:Currency"] ?? "USD";

    [HttpGet("/")]
    public IActionResult Index() => View(catalog.Products);

    [HttpGet("/products/{id}")]
    [MetaConversion(MetaEventNames.ViewContent)]
    public IActionResult Product(string id)
    {
        var product = catalog.Find(id);
        if (product is null)
        {
            return NotFound(); // a 404 reports nothing
        }

        HttpContext.MetaConversion()
            .WithContent(product.Id, 1, product.Price)
            .WithContentName(product.Name)
            .WithValue(product.Price, Currency);
        return View(product);
    }

    /// <summary>
    /// Called by the product page's script after <c>metaCapi.track('AddToCart', …)</c>, with the event ID in the
    /// <c>X-Meta-Event-Id</c> header: the server's AddToCart then carries the ID the Pixel already has.
    /// </summary>
    [HttpPost("/cart")]
    [MetaConversion(MetaEventNames.AddToCart, AcceptBrowserEventId = true)] // the product page fires the Pixel's copy first
    public IActionResult AddToCart([FromForm] string? productId)
    {
        var product = catalog.Find(productId);
        if (product is null)
        {
            return BadRequest(new { error = "unknown product" });
        }

        var conversion = HttpContext.MetaConversion()
            .WithContent(product.Id, 1, product.Price)
            .WithValue(product.Price, Currency);
        return Json(new { added = product.Id, eventId = conversion.EventId });
    }

    [HttpGet("/checkout")]
    public IActionResult Checkout([FromQuery] string? productId) =>
        View(new CheckoutForm { ProductId = catalog.Find(productId)?.Id ?? catalog.Products[0].Id });

    [HttpPost("/checkout")]
    [MetaConversion(MetaEventNames.Purchase)]
    public IActionResult Checkout([FromForm] CheckoutForm form)
    {
        var product = string.IsNullOrEmpty(form.ProductId) ? catalog.Products[0] : catalog.Find(form.ProductId);
        if (product is null)
        {
            ModelState.AddModelError(nameof(form.ProductId), "Unknown product.");
            return View(form); // invalid model state: no event
        }

        var order = store.PlaceOrder(product, form);
        HttpContext.MetaConversion()
            .UseEventId(order.Id) // the order number is the deduplication key, on both sides
            .WithValue(order.Total, Currency)
            .WithOrderId(order.Id)
            .WithContent(product.Id, order.Quantity, product.Price)
            .WithUser(u =>
            {
                u.Email = form.Email;
                u.Phone = form.Phone;
                u.FirstName = form.FirstName;
                u.LastName = form.LastName;
                u.City = form.City;
                u.State = form.State;
                u.Zip = form.Zip;
                u.Country = form.Country;
            });
        return View("Confirmation", order);
    }

    [HttpGet("/register")]
    public IActionResult Register() => View(new RegisterForm());

    /// <summary>Post, redirect, get: the Pixel's copy of the event follows the redirect to the welcome page, once.</summary>
    [HttpPost("/register")]
    [MetaConversion(MetaEventNames.CompleteRegistration)]
    public IActionResult Register([FromForm] RegisterForm form)
    {
        var customer = store.Register(form);
        HttpContext.MetaConversion()
            .WithUser(u =>
            {
                u.ExternalId = customer.Id;
                u.Email = form.Email;
                u.Phone = form.Phone;
                u.FirstName = form.FirstName;
                u.LastName = form.LastName;
                u.DateOfBirth = form.DateOfBirth;
                u.Gender = form.Gender;
                u.City = form.City;
                u.State = form.State;
                u.Zip = form.Zip;
                u.Country = form.Country;
            });
        return RedirectToAction(nameof(Welcome), new { id = customer.Id });
    }

    [HttpGet("/register/welcome")]
    public IActionResult Welcome([FromQuery] string? id) => View(store.FindCustomer(id));
}
