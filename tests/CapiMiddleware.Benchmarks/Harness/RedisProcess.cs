using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// A <c>redis-server</c> of the harness's own (the one on the <c>PATH</c>, Debian's <c>redis-server</c> package) on a free
/// loopback port, without persistence: the soak's <c>redis</c> store, and the store the outbox harness kills.
/// </summary>
internal sealed class RedisProcess : IAsyncDisposable
{
    private readonly Process _process;

    private RedisProcess(Process process, int port)
    {
        _process = process;
        ConnectionString = $"127.0.0.1:{port}";
    }

    public string ConnectionString { get; }

    /// <summary>The server, listening; null when no <c>redis-server</c> is installed. One that does not start throws.</summary>
    public static async Task<RedisProcess?> StartAsync()
    {
        var executable = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':')
            .Append("/usr/bin").Append("/usr/local/bin")
            .Select(dir => Path.Combine(dir, "redis-server")).FirstOrDefault(File.Exists);
        if (executable is null)
        {
            return null;
        }

        var port = HarnessCommand.FreePort();

        var process = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning" },
            UseShellExecute = false,
            RedirectStandardOutput = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var redis = new RedisProcess(process, port);
        for (var attempt = 0; attempt < 250 && !process.HasExited; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return redis;
            }
            catch (SocketException)
            {
                await Task.Delay(20); // not listening yet
            }
        }

        await redis.DisposeAsync();
        throw new InvalidOperationException($"redis-server did not start on port {port}.");
    }

    /// <summary>redis-server's resident memory (VmRSS), where the backlog of the redis outbox lives.</summary>
    public long ResidentBytes()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The CPU time redis-server has used since it started.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Kills the server (as a crash or an outage would), and waits until it is gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5_000);
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
