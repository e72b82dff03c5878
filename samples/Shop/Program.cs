using System.Security.Cryptography;
using Microsoft.AspNetCore.HttpOverrides;
using Shop.Models;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddControllersWithViews();
builder.Services.AddRazorPages(); // /newsletter
builder.Services.AddSingleton<Catalog>();
builder.Services.AddSingleton<Store>();

// The whole integration: options from the "MetaConversions" section (or MetaConversions__* variables).
builder.Services.AddMetaConversions(builder.Configuration.GetSection("MetaConversions"));

// Behind a local reverse proxy, take the visitor's address from X-Forwarded-For (loopback proxies are trusted by default).
builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);

var app = builder.Build();

app.UseForwardedHeaders();

// A strict Content Security Policy with a nonce per request: the snippet and the Pixel work without 'unsafe-inline'.
app.Use((context, next) =>
{
    var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)); // hex: nothing for HTML to escape
    context.Items["csp-nonce"] = nonce;
    context.Response.Headers.ContentSecurityPolicy =
        $"default-src 'self'; script-src 'self' 'nonce-{nonce}' https://connect.facebook.net; " +
        "img-src 'self' https://www.facebook.com; connect-src 'self' https://www.facebook.com https://connect.facebook.net; " +
        "frame-src https://www.facebook.com; object-src 'none'; base-uri 'self'";
    return next(context);
});

app.UseStaticFiles();
app.UseMetaConversions();
app.MapControllers();
app.MapRazorPages();

app.Run();

/// <summary>The sample's entry point, public so tests can host it.</summary>
public partial class Program;
