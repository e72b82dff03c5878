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
    public async Task<IActionResult> Checkout([FromForm] CheckoutForm form)
    {
        var product = string.IsNullOrEmpty(form.ProductId) ? catalog.Products[0] : catalog.Find(form.ProductId);
        if (product is null)
        {
            ModelState.AddModelError(nameof(form.ProductId), "Unknown product.");
            return View(form); // invalid model state: no event
        }

        if (form.Payment == "later")
        {
            // Paid through a payment provider: not a Purchase yet. Keep who this visitor is under the order ID; the
            // provider's webhook reports the Purchase with it (POST /payments/webhook).
            var pending = store.PlacePendingOrder(product, form);
            HttpContext.MetaConversion().Cancel();
            await HttpContext.CaptureMetaIdentityAsync(pending.Id, u => Describe(u, form));
            return Redirect($"/orders/{pending.Id}/pending"); // a real shop redirects to the provider's payment page
        }

        var order = store.PlaceOrder(product, form);
        HttpContext.MetaConversion()
            .UseEventId(order.Id) // the order number is the deduplication key, on both sides
            .WithValue(order.Total, Currency)
            .WithOrderId(order.Id)
            .WithContent(product.Id, order.Quantity, product.Price)
            .WithUser(u => Describe(u, form));
        return View("Confirmation", order);
    }

    /// <summary>
    /// The page the payment provider sends the visitor back to (by a link, or by a form post from its own site): waiting
    /// for payment until the webhook confirms it, then the confirmation with the Pixel's Purchase. The server's copy was
    /// sent by the webhook with the same event ID, the order ID, so Meta keeps one of the two.
    /// </summary>
    [HttpGet("/orders/{id}/pending")]
    [HttpPost("/orders/{id}/pending")]
    [IgnoreAntiforgeryToken] // the provider's return post comes from its site
    public IActionResult Pending(string id)
    {
        var order = store.FindOrder(id);
        if (order is null)
        {
            return NotFound();
        }

        if (order.Paid)
        {
            HttpContext.MetaConversion(MetaEventNames.Purchase)
                .PixelOnly()
                .UseEventId(order.Id)
                .WithValue(order.Total, Currency)
                .WithOrderId(order.Id)
                .WithContent(order.Product.Id, order.Quantity, order.Product.Price);
        }

        return View(order);
    }

    private static void Describe(UserData user, CheckoutForm form)
    {
        user.Email = form.Email;
        user.Phone = form.Phone;
        user.FirstName = form.FirstName;
        user.LastName = form.LastName;
        user.City = form.City;
        user.State = form.State;
        user.Zip = form.Zip;
        user.Country = form.Country;
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
