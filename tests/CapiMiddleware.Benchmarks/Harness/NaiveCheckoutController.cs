using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Shop.Models;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// The way most shops send a purchase today, for the latency harness only (it never ships in the sample): the sample's
/// checkout action, but describing the purchase by hand and awaiting a direct POST to Graph before the page is
/// rendered. Mounted into the sample shop by <see cref="CheckoutLatency"/> as an extra application part.
/// </summary>
public sealed class NaiveCheckoutController(Catalog catalog, Store store, IHttpClientFactory httpClientFactory, IConfiguration configuration) : Controller
{
    /// <summary>The named client the harness registers for this controller.</summary>
    public const string HttpClientName = "naive-graph";

    /// <summary>The sample's checkout, with Meta's round trip inside it.</summary>
    [HttpPost("/naive/checkout")]
    public async Task<IActionResult> Checkout([FromForm] CheckoutForm form)
    {
        var product = string.IsNullOrEmpty(form.ProductId) ? catalog.Products[0] : catalog.Find(form.ProductId);
        if (product is null)
        {
            ModelState.AddModelError(nameof(form.ProductId), "Unknown product.");
            return View("~/Views/Shop/Checkout.cshtml", form);
        }

        var order = store.PlaceOrder(product, form);
        var purchase = new
        {
            data = new[]
            {
                new
                {
                    event_name = "Purchase",
                    event_time = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                    event_id = order.Id,
                    action_source = "website",
                    event_source_url = $"{Request.Scheme}://{Request.Host}{Request.Path}",
                    user_data = new
                    {
                        em = Hash(form.Email),
                        ph = Hash(form.Phone),
                        fn = Hash(form.FirstName),
                        ln = Hash(form.LastName),
                        ct = Hash(form.City),
                        st = Hash(form.State),
                        zp = Hash(form.Zip),
                        country = Hash(form.Country),
                        client_ip_address = HttpContext.Connection.RemoteIpAddress?.ToString(),
                        client_user_agent = Request.Headers.UserAgent.ToString(),
                    },
                    custom_data = new { value = order.Total, currency = "USD", order_id = order.Id },
                },
            },
        };

        var client = httpClientFactory.CreateClient(HttpClientName);
        var url = $"{configuration["MetaConversions:GraphApiBaseUrl"]}/v24.0/{configuration["MetaConversions:PixelId"]}/events?access_token={configuration["MetaConversions:AccessToken"]}";
        try
        {
            using var response = await client.PostAsJsonAsync(url, purchase, HttpContext.RequestAborted);
        }
        catch (HttpRequestException)
        {
            // What such shops do: log it and go on; the purchase is lost for Meta.
        }

        return View("~/Views/Shop/Confirmation.cshtml", order);
    }

    private static string? Hash(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value.Trim().ToLowerInvariant())));
}
