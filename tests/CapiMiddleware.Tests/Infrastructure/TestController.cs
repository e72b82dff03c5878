using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>Actions that end in every way an action can, for the filter's tests.</summary>
public sealed class TestController : Controller
{
    public sealed class LeadForm
    {
        public string? Email { get; set; }

        public string? Note { get; set; }
    }

    /// <summary>A page with the tag helper and no conversion.</summary>
    [HttpGet("/page")]
    public IActionResult Page() => View("Page");

    [HttpGet("/plain")]
    public IActionResult Plain() => Content("plain");

    /// <summary>An action the library has no part in: its answer must be the same with the library and without.</summary>
    [HttpPost("/echo")]
    public IActionResult Echo([FromForm] LeadForm? form) =>
        Content($"echo {form?.Email?.Length ?? -1} {form?.Note?.Length ?? -1} {Request.Cookies.Count}");

    /// <summary>A Lead that ends as <paramref name="outcome"/> says; the page may fire it first (it takes the browser's event ID).</summary>
    [HttpPost("/lead")]
    [MetaConversion("Lead", AcceptBrowserEventId = true)]
    public IActionResult Lead([FromQuery] string outcome, [FromForm] LeadForm? form)
    {
        var conversion = HttpContext.MetaConversion();
        conversion.WithUser(u => u.Email = form?.Email);
        if (form?.Note is not null)
        {
            conversion.WithCustomProperty("note", form.Note);
        }

        switch (outcome)
        {
            case "view":
                return View("Page");
            case "redirect":
                return Redirect("/page");
            case "json":
                return Json(new { eventId = conversion.EventId });
            case "empty":
                return Ok();
            case "bad-request":
                return BadRequest();
            case "not-found":
                return NotFound();
            case "status-500":
                return StatusCode(500);
            case "throw":
                throw new InvalidOperationException("The action failed.");
            case "invalid-model":
                ModelState.AddModelError("email", "Invalid.");
                return View("Page");
            case "cancel":
                conversion.Cancel();
                return View("Page");
            default:
                return Content($"unknown outcome [{outcome}]");
        }
    }

    [HttpPost("/purchase")]
    [MetaConversion(MetaEventNames.Purchase)]
    public IActionResult Purchase([FromQuery] string orderId, [FromQuery] decimal value = 10m, [FromQuery] string currency = "USD")
    {
        HttpContext.MetaConversion()
            .UseEventId(orderId)
            .WithValue(value, currency)
            .WithOrderId(orderId)
            .WithContent("sku-1", 2, value / 2);
        return View("Page");
    }

    /// <summary>A purchase reported to the given pixels only.</summary>
    [HttpPost("/purchase-to")]
    [MetaConversion(MetaEventNames.Purchase)]
    public IActionResult PurchaseTo([FromQuery] string orderId, [FromQuery] string[] pixel)
    {
        HttpContext.MetaConversion().UseEventId(orderId).WithValue(10m, "USD").SendToPixels(pixel);
        return View("Page");
    }

    /// <summary>A purchase that forgets its currency: Meta would reject it, so it must not be queued.</summary>
    [HttpPost("/purchase-without-value")]
    [MetaConversion(MetaEventNames.Purchase)]
    public IActionResult PurchaseWithoutValue() => View("Page");

    [HttpPost("/two")]
    [MetaConversion("Subscribe")]
    [MetaConversion("Lead")]
    public IActionResult Two()
    {
        HttpContext.MetaConversion("Subscribe").WithValue(5m, "EUR");
        HttpContext.MetaConversion("Lead").WithCustomProperty("source", "two");
        return View("Page");
    }

    [HttpPost("/custom")]
    [MetaConversion("NewsletterSignup")]
    public IActionResult Custom() => View("Page");

    /// <summary>No attribute: the action declares its Lead in code, and ends as <paramref name="outcome"/> says.</summary>
    [HttpPost("/imperative")]
    public IActionResult Imperative([FromQuery] string outcome, [FromForm] LeadForm? form)
    {
        var conversion = HttpContext.MetaConversion(MetaEventNames.Lead).WithUser(u => u.Email = form?.Email);
        return outcome switch
        {
            "view" => View("Page"),
            "redirect" => Redirect("/page"),
            "json" => Json(new { eventId = conversion.EventId }),
            "bad-request" => BadRequest(),
            "throw" => throw new InvalidOperationException("The action failed."),
            _ => Content($"unknown outcome [{outcome}]"),
        };
    }

    /// <summary>Declares "Lead" by attribute and asks for "lead" in code: two events, and a warning about the case.</summary>
    [HttpPost("/lead-case")]
    [MetaConversion("Lead")]
    public IActionResult LeadCase()
    {
        HttpContext.MetaConversion("lead");
        return View("Page");
    }

    /// <summary>A form post that fires no Pixel first: the browser's event ID header is not accepted here.</summary>
    [HttpPost("/signup")]
    [MetaConversion(MetaEventNames.CompleteRegistration)]
    public IActionResult Signup() => Json(new { eventId = HttpContext.MetaConversion().EventId });

    /// <summary>Accepts the browser's event ID, but sets its own: the server's always wins.</summary>
    [HttpPost("/lead-with-id")]
    [MetaConversion("Lead", AcceptBrowserEventId = true)]
    public IActionResult LeadWithId([FromQuery] string id) => Json(new { eventId = HttpContext.MetaConversion().UseEventId(id).EventId });

    /// <summary>The action that starts a payment: it keeps the visitor's identity under the order ID (issue 16).</summary>
    [HttpPost("/pay")]
    public async Task<IActionResult> Pay([FromQuery] string orderId)
    {
        await HttpContext.CaptureMetaIdentityAsync(orderId, u => u.Email = "Buyer@Example.com");
        return Ok();
    }

    /// <summary>Asks for a conversion without declaring one: a programming error that must say how to fix it.</summary>
    [HttpGet("/undeclared")]
    public IActionResult Undeclared()
    {
        try
        {
            HttpContext.MetaConversion();
            return Content("no error");
        }
        catch (InvalidOperationException ex)
        {
            return Content(ex.Message);
        }
    }
}

/// <summary>Product pages that a cache shares between visitors, three ways (issue 15, part 2).</summary>
public sealed class SharedPagesController : Controller
{
    /// <summary>How many times an app rendered its output-cached page (not served from the cache); registered by the tests that count.</summary>
    public sealed class Renders
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }

    [HttpGet("/shared/output-cache")]
    [Microsoft.AspNetCore.OutputCaching.OutputCache(Duration = 600)]
    [MetaConversion(MetaEventNames.ViewContent)]
    public IActionResult OutputCached()
    {
        HttpContext.RequestServices.GetService<Renders>()?.Add();
        return Product();
    }

    [HttpGet("/shared/public")]
    [ResponseCache(Duration = 600, Location = ResponseCacheLocation.Any)]
    [MetaConversion(MetaEventNames.ViewContent)]
    public IActionResult Public() => Product();

    [HttpGet("/shared/cdn")]
    [SharedPageCache]
    [MetaConversion(MetaEventNames.ViewContent)]
    public IActionResult Cdn() => Product();

    private ViewResult Product()
    {
        HttpContext.MetaConversion()
            .UseEventId("server-chosen") // ignored on a shared page: each visitor's snippet mints its own
            .WithContent("sku-9", 1, 12.5m)
            .WithValue(12.5m, "EUR")
            .WithUser(u => u.Email = "first.visitor@example.com"); // never rendered, never sent for others
        return View("~/Views/Test/Page.cshtml");
    }
}

/// <summary>The same conversion named on the controller and on an action: one event, not two.</summary>
[MetaConversion("Subscribe")]
public sealed class SubscriptionController : Controller
{
    [HttpPost("/subscription")]
    [MetaConversion("Subscribe")]
    public IActionResult Subscribe() => Json(new { eventId = HttpContext.MetaConversion().WithValue(9m, "EUR").EventId });
}
