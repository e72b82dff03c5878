using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Tests.Infrastructure;

/// <summary>Records every log line of a host, formatted, so tests can check what was said and what never was.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    public string AllText => string.Join("\n", _lines.Select(l => $"{l.Level} {l.Category}[{l.EventId}] {l.Message} {l.Exception}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public IEnumerable<LogLine> WithEventId(int eventId, string categoryPrefix = "CapiMiddleware") =>
        Lines.Where(l => l.EventId == eventId && l.Category.StartsWith(categoryPrefix, StringComparison.Ordinal));

    public sealed record LogLine(string Category, LogLevel Level, int EventId, string Message, string? Exception);

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue(new LogLine(category, logLevel, eventId.Id, formatter(state, exception), exception?.ToString()));
    }
}
