using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace CapiMiddleware.Serving;

/// <summary>
/// The browser snippet, embedded in this assembly and served as an endpoint (<c>app.MapMetaConversions()</c>): under a
/// content-hashed path with a year-long immutable cache, and under a stable path with a short cache for pages that
/// cannot know the hash (static or cached HTML).
/// </summary>
internal sealed class SnippetFile
{
    public const string BasePath = "/_capi";
    public const string StablePath = BasePath + "/meta-capi.js";

    /// <summary>The route of every hashed path, the current one and older ones (a page cached before a deploy).</summary>
    public const string HashedRoute = BasePath + "/meta-capi.{hash}.js";

    private const string ResourceName = "CapiMiddleware.meta-capi.js";
    private const string ContentType = "text/javascript; charset=utf-8";

    private readonly byte[] _content;
    private readonly string _etag;

    public SnippetFile()
    {
        using var stream = typeof(SnippetFile).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing; the client snippet was not built into this assembly.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        _content = memory.ToArray();

        var hash = Convert.ToHexStringLower(SHA256.HashData(_content))[..12];
        _etag = $"\"{hash}\"";
        VersionedPath = $"{BasePath}/meta-capi.{hash}.js";
    }

    /// <summary>The path with the content hash, for the tag helper's <c>&lt;script src&gt;</c>.</summary>
    public string VersionedPath { get; }

    public ReadOnlyMemory<byte> Content => _content;

    /// <summary>Serves the snippet, on a request routed to <see cref="StablePath"/> or <see cref="HashedRoute"/>.</summary>
    public Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }

        // An older hash (a page cached before a deploy) still gets the current snippet, but not for a year.
        var versioned = request.Path.Equals(VersionedPath, StringComparison.Ordinal);
        response.Headers.CacheControl = versioned ? "public, max-age=31536000, immutable" : "public, max-age=300";
        response.Headers.ETag = _etag;
        response.Headers.XContentTypeOptions = "nosniff";
        response.ContentType = ContentType;

        if (request.Headers.IfNoneMatch.ToString() == _etag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentLength = _content.Length;
        return HttpMethods.IsGet(request.Method)
            ? response.Body.WriteAsync(_content, context.RequestAborted).AsTask()
            : Task.CompletedTask;
    }
}
