using System.Net.Sockets;
using System.Text;

namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>
/// HTTP/1.1 over a plain socket, for requests no well-behaved client would send (raw bytes in headers, CR/LF, huge
/// values): what a hostile visitor can put on the wire, the server has to survive.
/// </summary>
public static class RawHttp
{
    public sealed record Response(int Status, IReadOnlyList<(string Name, string Value)> Headers, string Body)
    {
        public IEnumerable<string> All(string name) =>
            Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);
    }

    public static async Task<Response> SendAsync(Uri baseUrl, byte[] request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var client = new TcpClient();
        await client.ConnectAsync(baseUrl.Host, baseUrl.Port, timeout.Token);
        var stream = client.GetStream();
        using var buffer = new MemoryStream();
        var reading = stream.CopyToAsync(buffer, timeout.Token); // the request says Connection: close
        try
        {
            await stream.WriteAsync(request, timeout.Token);
        }
        catch (IOException)
        {
            // The server answered (400) and closed before it read the whole request: its answer is what counts.
        }

        try
        {
            await reading;
        }
        catch (IOException)
        {
            // Reset after the answer: keep what arrived.
        }
        catch (OperationCanceledException)
        {
            var head = Encoding.UTF8.GetString(request, 0, Math.Min(request.Length, 600));
            throw new TimeoutException($"No complete answer in 5 s ({buffer.Length} bytes so far) to:\n{head}");
        }

        return Parse(buffer.ToArray());
    }

    /// <summary>Builds a request from parts that are written as given (UTF-8), without any validation.</summary>
    public static byte[] Build(string method, string target, IEnumerable<(string Name, string Value)> headers, byte[] body)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("Content-Length: ").Append(body.Length).Append("\r\n\r\n");
        return [.. Encoding.UTF8.GetBytes(head.ToString()), .. body];
    }

    private static Response Parse(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return new Response(0, [], text);
        }

        var lines = text[..end].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Select(p => (p[0].Trim(), p.Length > 1 ? p[1].Trim() : "")).ToList();
        var body = text[(end + 4)..];
        if (headers.Any(h => h.Item1.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Item2.Contains("chunked", StringComparison.OrdinalIgnoreCase)))
        {
            body = Dechunk(body);
        }

        return new Response(status, headers, body);
    }

    private static string Dechunk(string body)
    {
        var result = new StringBuilder();
        var position = 0;
        while (position < body.Length)
        {
            var lineEnd = body.IndexOf("\r\n", position, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                break;
            }

            var size = Convert.ToInt32(body[position..lineEnd].Split(';')[0], 16);
            if (size == 0)
            {
                break;
            }

            // Chunk sizes count bytes; the text is UTF-8, so measure in bytes.
            var start = lineEnd + 2;
            var chunkBytes = Encoding.UTF8.GetBytes(body[start..]);
            var chunk = Encoding.UTF8.GetString(chunkBytes, 0, Math.Min(size, chunkBytes.Length));
            result.Append(chunk);
            position = start + chunk.Length + 2;
        }

        return result.ToString();
    }
}
