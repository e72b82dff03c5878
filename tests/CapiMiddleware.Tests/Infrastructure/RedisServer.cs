using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>
/// One real <c>redis-server</c> (Debian's package) per test class, on a free loopback port, with no persistence.
/// Without one the tests are skipped with the way to install it, except under <c>CI=true</c>, where a missing
/// redis-server is a failure (<see cref="Requires"/>).
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private Process? _process;
    private string? _executable;
    private int _port;

    /// <summary>Why there is no server, or null when there is one.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>A StackExchange.Redis connection string for the server.</summary>
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var executable = Find("redis-server");
        if (executable is null)
        {
            Unavailable = "No redis-server on PATH: install Debian's package with `sudo apt-get install redis-server` to run the Redis outbox tests.";
            return;
        }

        // A port that was free a moment ago; a rare clash makes redis-server exit, and then another is tried.
        _executable = executable;
        for (var attempt = 0; attempt < 5 && _process is null; attempt++)
        {
            var port = FreePort();
            _process = await StartAsync(executable, port);
            if (_process is not null)
            {
                _port = port;
                ConnectionString = $"127.0.0.1:{port}";
            }
        }

        if (_process is null)
        {
            Unavailable = "redis-server did not start on a loopback port.";
        }
    }

    public Task DisposeAsync()
    {
        if (_process is not null)
        {
            Stop(_process);
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops the server, as a crash or a network partition would make it disappear: clients see it gone.</summary>
    public void Kill()
    {
        if (_process is not null)
        {
            Stop(_process);
            _process = null;
        }
    }

    /// <summary>Starts the server again on the same port, empty (no persistence), after <see cref="Kill"/>.</summary>
    public async Task RestartAsync()
    {
        for (var attempt = 0; attempt < 50 && _process is null; attempt++)
        {
            // The port may linger for a moment after the kill.
            _process = await StartAsync(_executable!, _port);
            if (_process is null)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(_process is not null, $"redis-server did not start again on port {_port}.");
    }

    /// <summary>Skips the calling test when there is no redis-server; fails it instead on CI (<see cref="Requires"/>).</summary>
    public void Require() => Requires.Redis(this);

    private static async Task<Process?> StartAsync(string executable, int port)
    {
        var process = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (await AcceptsConnectionsAsync(process, port))
        {
            return process;
        }

        Stop(process);
        return null;
    }

    private static async Task<bool> AcceptsConnectionsAsync(Process process, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (read >= 5 && System.Text.Encoding.ASCII.GetString(buffer, 0, 5) == "+PONG")
                {
                    return true;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            await Task.Delay(20);
        }

        return false;
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Find(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/local/bin", "/usr/sbin"]))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
