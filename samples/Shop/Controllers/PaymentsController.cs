using System.Security.Cryptography;
using System.Text;
using CapiMiddleware;
using Microsoft.AspNetCore.Mvc;
using Shop.Models;

namespace Shop.Controllers;

/// <summary>
/// The payment provider's webhook, server to server: no cookies, no browser. It marks the order paid and reports the
/// Purchase with the identity the checkout captured under the order ID (<c>WithIdentityOf</c>): the visitor's click ID,
/// browser ID, IP address, user agent and checkout URL, and the order ID as the event ID.
/// </summary>
public sealed class PaymentsController(Store store, IConversionQueue queue, IConfiguration configuration, IWebHostEnvironment environment) : Controller
{
    /// <summary>The webhook secret the sample accepts in Development when <c>Shop:WebhookSecret</c> is not set.</summary>
    public const string DevelopmentSecret = "dev-webhook-secret";

    public sealed record WebhookEvent(string? OrderId, string? Status);

    [HttpPost("/payments/webhook")]
    [IgnoreAntiforgeryToken] // server to server: the secret is the check
    public async Task<IActionResult> Webhook([FromBody] WebhookEvent? notification, CancellationToken cancellationToken)
    {
        var secret = configuration["Shop:WebhookSecret"] ?? (environment.IsDevelopment() ? DevelopmentSecret : null);
        if (secret is null)
        {
            return Problem("Shop:WebhookSecret is not set: the webhook takes nothing until it is.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (!FixedTimeEquals(Request.Headers["X-Webhook-Secret"].ToString(), secret))
        {
            return Problem("The X-Webhook-Secret header does not match Shop:WebhookSecret.", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (notification is null || string.IsNullOrEmpty(notification.OrderId) || notification.Status is null)
        {
            return Problem("The body must be JSON: {\"orderId\": \"...\", \"status\": \"paid\"}.", statusCode: StatusCodes.Status400BadRequest);
        }

        var order = store.FindOrder(notification.OrderId);
        if (order is null)
        {
            return Problem($"No order {notification.OrderId}.", statusCode: StatusCodes.Status404NotFound);
        }

        if (notification.Status != "paid" || !store.MarkPaid(order))
        {
            return Ok(new { order = order.Id, paid = order.Paid }); // another status, or delivered twice: nothing more to report
        }

        var purchase = new ConversionEvent(MetaEventNames.Purchase)
        {
            CustomData = new CustomData { Value = order.Total, Currency = configuration["Shop:Currency"] ?? "USD", OrderId = order.Id },
        };
        purchase.CustomData.Contents.Add(new Content(order.Product.Id, order.Quantity, order.Product.Price));
        await queue.EnqueueAsync(purchase.WithIdentityOf(order.Id), cancellationToken);
        return Ok(new { order = order.Id, paid = true });
    }

    private static bool FixedTimeEquals(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
}
