using OfflineImport;

// A worker with no web requests: it reads the offline orders (store sales, phone orders, renewals) and a CRM's lead
// stage changes (Conversion Leads) from CSV files, queues each one as a Meta conversion, and exits once the queue has
// drained. Without an access token nothing is sent:
// each batch is shown in the console exactly as it would be posted.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory, // appsettings.json and the CSV sit beside the program
});

builder.Services.AddMetaConversions(builder.Configuration.GetSection("MetaConversions"));
builder.Services.Configure<ImportOptions>(builder.Configuration.GetSection("OfflineImport"));

// Registered after AddMetaConversions, so it stops first: the library's sender then drains the queue before the host exits.
builder.Services.AddHostedService<OfflineOrderImport>();

await builder.Build().RunAsync();
