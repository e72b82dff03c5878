using CapiMiddleware;
using MinimalApi;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning); // keep the console to what the library shows

// The whole integration: options from the "MetaConversions" section or MetaConversions__* variables. With no
// access token set (the default), nothing is sent: each batch is shown in the console as it would be posted.
builder.Services.AddMetaConversions(builder.Configuration.GetSection("MetaConversions"));
builder.Services.AddSingleton<Newsletter>();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, SampleJsonContext.Default));

var app = builder.Build();

app.UseDefaultFiles();
app.UseStaticFiles();        // wwwroot/index.html: static, so the snippet it loads sets _fbc and _fbp in the browser
app.UseMetaConversions();    // _fbc/_fbp cookies
app.MapMetaConversions();    // what the library serves under /_capi/: the snippet, the beacon, the inspector

// Declared on the endpoint: a Lead is reported when the handler succeeds (a 2xx or redirect result). The page fires
// the Pixel's copy with metaCapi.track and sends its event ID in X-Meta-Event-Id, so both copies share it.
app.MapPost("/api/newsletter", (HttpContext http, Signup signup, Newsletter newsletter) =>
{
    if (!newsletter.Subscribe(signup.Email))
    {
        return Results.BadRequest(new Problem("An email address is required."));
    }

    http.MetaConversion().WithUser(u => u.Email = signup.Email);
    return Results.Ok(new Subscription(Subscribed: true));
}).WithMetaConversion(MetaEventNames.Lead, acceptBrowserEventId: true); // the page fires the Pixel's Lead first (metaCapi.track)

// Declared in code: a Contact is reported only on the path where the message was accepted.
app.MapPost("/api/contact", (HttpContext http, ContactMessage message) =>
{
    if (string.IsNullOrWhiteSpace(message.Text))
    {
        return Results.BadRequest(new Problem("The message is empty."));
    }

    var contact = http.MetaConversion(MetaEventNames.Contact).WithUser(u => u.Email = message.Email);
    return Results.Ok(new ContactReceipt(contact.EventId));
});

app.Run();
