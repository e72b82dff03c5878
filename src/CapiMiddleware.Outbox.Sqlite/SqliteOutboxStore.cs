using System.Threading.Channels;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Outbox.Sqlite;

/// <summary>
/// A durable store in one SQLite file (WAL mode, one table). Every write goes through one background writer that
/// groups what arrives together (enqueues from many requests, leases, acknowledgements) into one transaction, so a
/// request waits for one shared commit, not for a commit of its own. An enqueue completes only once its transaction
/// is committed: an event whose request completed survives a crash of the process.
/// </summary>
/// <remarks>
/// A row is leasable when <c>due_at</c> has passed. Leasing sets <c>due_at</c> to the lease's expiry, renewed while this
/// process lives; a retry sets it to the retry time; a dead letter clears it (and the payload) and keeps the reason.
/// </remarks>
internal sealed partial class SqliteOutboxStore : IOutboxStore, IAsyncDisposable
{
    private const int SchemaVersion = 1;
    private const int MaxOperationsPerTransaction = 1024;
    private const int DeadLetterHistory = 10_000;
    private const int IncrementalVacuum = 2; // PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental

    // How often a waiting sender looks for rows it was not told about: another process's enqueues, due retries.
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    // Free pages are given back to the disk once there are this many (4 KB each), in steps of at most this many pages,
    // each a write transaction of its own, so an enqueue never waits behind more than one step (0.2-0.3 ms for 256
    // pages on the development machine; a step of 2,048 took 9-13 ms). Up to 64 MB a second.
    internal const int VacuumThresholdPages = 256;
    internal const int VacuumPagesPerStep = 256;
    private const int VacuumStepsPerTick = 64;

    // The write-ahead log is cut back to this size when it restarts after a checkpoint (it keeps its largest size otherwise).
    private const long WalSizeLimit = 4 * 1024 * 1024;

    // Under steady writes the log rarely restarts on its own (a commit lands between every checkpoint and the next
    // write): past this many frames (about 16 MB) the checkpointer empties it, waiting at most a moment for the writer
    // (which waits in turn while the log is cut: 4-5 ms for a 9.6 MB log on the development machine).
    private const long WalTruncateFrames = 4_096;
    private const int TruncateBusyTimeoutMs = 20;

    private readonly SqliteConnection _writeConnection;
    private readonly SqliteConnection _readConnection;
    private readonly SemaphoreSlim _readLock = new(1, 1);
    private readonly Channel<WriteOperation> _writes = Channel.CreateUnbounded<WriteOperation>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private readonly HeldLeases<long> _held = new();
    private readonly AsyncSignal _stored = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TimeSpan _leaseTimeout;
    private readonly TimeProvider _time;
    private readonly StaleEntries _stale;
    private readonly ILogger _logger;
    private readonly Commands _commands;
    private readonly Task _writer;
    private readonly Task _renewer;
    private readonly Task _checkpointer;
    private int _disposed;

    private SqliteOutboxStore(SqliteConnection write, SqliteConnection read, TimeSpan leaseTimeout, TimeProvider time, StaleEntries stale, ILogger logger)
    {
        _writeConnection = write;
        _readConnection = read;
        _leaseTimeout = leaseTimeout;
        _time = time;
        _stale = stale;
        _logger = logger;
        _commands = new Commands(write);
        _writer = Task.Run(WriteLoopAsync);
        _renewer = Task.Run(() => _held.RenewUntilClosedAsync(_leaseTimeout, _time, RenewLeasesAsync, _logger, _closing.Token));
        _checkpointer = Task.Run(CheckpointLoopAsync);
    }

    /// <summary>This process's name on the rows it leases.</summary>
    internal string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    public bool IsDurable => true;

    /// <summary>Opens (or creates) the file; a failure names the setting, so a wrong path stops the app at start.</summary>
    public static SqliteOutboxStore Open(string path, TimeSpan leaseTimeout, TimeProvider time, StaleEntries stale, ILogger logger)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        SqliteConnection? write = null;
        SqliteConnection? read = null;
        try
        {
            if (System.IO.Path.GetDirectoryName(fullPath) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }

            var connectionString = ConnectionString(fullPath);

            write = new SqliteConnection(connectionString);
            write.Open();
            CreateSchema(write, fullPath, logger);
            read = new SqliteConnection(connectionString);
            read.Open();
            Execute(read, "PRAGMA busy_timeout = 5000;");

            var count = Scalar(read, "SELECT COUNT(*) FROM outbox WHERE due_at IS NOT NULL");
            Log.SqliteOutboxOpened(logger, fullPath, count, leaseTimeout);
            return new SqliteOutboxStore(write, read, leaseTimeout, time, stale, logger);
        }
        catch (Exception ex)
        {
            read?.Dispose();
            write?.Dispose();
            if (ex is SqliteException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException(
                    $"MetaConversions:Outbox:Path: could not open the SQLite outbox at '{fullPath}': {ex.Message}", ex);
            }

            throw;
        }
    }

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Scalar(_readConnection, "SELECT COUNT(*) FROM outbox WHERE due_at IS NOT NULL");
        }
        finally
        {
            _readLock.Release();
        }
    }

    public async ValueTask<bool> EnqueueAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        // Not cancellable once handed to the writer: the caller learns whether its event is on disk.
        await Submit(new EnqueueOperation(entry)).ConfigureAwait(false);
        return true;
    }

    public async ValueTask<bool> WaitForEntriesAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        try
        {
            while (true)
            {
                var stored = _stored.Next;
                var nextDue = await NextDueAsync(linked.Token).ConfigureAwait(false);
                var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                if (nextDue <= now)
                {
                    return true;
                }

                var wait = nextDue is { } due && due - now < PollInterval.TotalMilliseconds ? TimeSpan.FromMilliseconds(due - now) : PollInterval;
                await AsyncSignal.WaitAsync(stored, wait, _time, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask<IReadOnlyList<OutboxEntry>> LeaseAsync(int maxCount, TimeSpan linger, CancellationToken cancellationToken)
    {
        var batch = await Lingering.FillAsync(
            maxCount, linger, count => Submit(new LeaseOperation(count, this)), _stored, PollInterval, _time, cancellationToken).ConfigureAwait(false);
        await _stale.DropAsync(batch, DeadLetterAsync).ConfigureAwait(false);
        return batch;
    }

    public async ValueTask AcknowledgeAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken)
    {
        var held = _held.Release(entries);
        if (held.Count > 0)
        {
            await Submit(new AcknowledgeOperation(held)).ConfigureAwait(false);
        }
    }

    public async ValueTask RetryLaterAsync(IReadOnlyList<OutboxEntry> entries, TimeSpan delay, CancellationToken cancellationToken)
    {
        var held = _held.Release(entries);
        if (held.Count > 0)
        {
            var dueAt = (_time.GetUtcNow() + (delay > TimeSpan.Zero ? delay : TimeSpan.Zero)).ToUnixTimeMilliseconds();
            await Submit(new RetryOperation(held, dueAt, Owner)).ConfigureAwait(false);
        }
    }

    public async ValueTask DeadLetterAsync(IReadOnlyList<OutboxEntry> entries, string reason, CancellationToken cancellationToken)
    {
        var held = _held.Release(entries);
        if (held.Count > 0)
        {
            await Submit(new DeadLetterOperation(held, reason, Owner)).ConfigureAwait(false);
        }
    }

    public async ValueTask<IReadOnlyList<DeadLetter>> GetRecentDeadLettersAsync(int maxCount, CancellationToken cancellationToken)
    {
        await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _readConnection.CreateCommand();
            command.CommandText =
                "SELECT pixel_id, event_name, event_id, dead_reason, dead_at FROM outbox WHERE dead_at IS NOT NULL " +
                "ORDER BY dead_at DESC, id DESC LIMIT $max";
            command.Parameters.AddWithValue("$max", maxCount);
            var letters = new List<DeadLetter>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                letters.Add(new DeadLetter(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
            }

            letters.Reverse();
            return letters;
        }
        finally
        {
            _readLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        await _renewer.ConfigureAwait(false);
        await _checkpointer.ConfigureAwait(false);

        // What this process still holds is free for the next one at once, instead of after the lease time-out.
        var release = new ReleaseOperation(Owner);
        if (_writes.Writer.TryWrite(release))
        {
            _writes.Writer.TryComplete();
            await _writer.ConfigureAwait(false);
        }

        _commands.Dispose();
        try
        {
            // Fold the log into the database at a clean close.
            Execute(_writeConnection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        catch (SqliteException)
        {
            // Another process reads the file: it checkpoints later.
        }

        _writeConnection.Dispose();
        _readConnection.Dispose();
        _readLock.Dispose();
    }

    private Task<T> Submit<T>(WriteOperation<T> operation)
    {
        if (!_writes.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteOutboxStore), "The SQLite outbox is closed.");
        }

        return operation.Task;
    }

    private async Task<long?> NextDueAsync(CancellationToken cancellationToken)
    {
        await _readLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _readConnection.CreateCommand();
            command.CommandText = "SELECT MIN(due_at) FROM outbox WHERE due_at IS NOT NULL";
            return command.ExecuteScalar() is long due ? due : null;
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <summary>The one writer: takes whatever operations are waiting, runs them in one transaction, commits once.</summary>
    private async Task WriteLoopAsync()
    {
        var reader = _writes.Reader;
        var operations = new List<WriteOperation>(64);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (operations.Count < MaxOperationsPerTransaction && reader.TryRead(out var operation))
            {
                operations.Add(operation);
            }

            RunInOneTransaction(operations);
            operations.Clear();
        }
    }

    private void RunInOneTransaction(List<WriteOperation> operations)
    {
        try
        {
            Run(operations);
        }
        catch (Exception) when (operations.Count > 1)
        {
            // One failing operation must not fail the others: run each alone.
            foreach (var operation in operations)
            {
                try
                {
                    Run([operation]);
                }
                catch (Exception ex)
                {
                    operation.Fail(ex);
                }
            }
        }
        catch (Exception ex)
        {
            operations[0].Fail(ex);
        }
    }

    private void Run(List<WriteOperation> operations)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        using (var transaction = _writeConnection.BeginTransaction())
        {
            _commands.Use(transaction);
            foreach (var operation in operations)
            {
                operation.Execute(_commands, now);
            }

            transaction.Commit();
        }

        var enqueued = 0;
        foreach (var operation in operations)
        {
            enqueued += operation is EnqueueOperation ? 1 : 0;
            operation.Complete();
        }

        if (enqueued > 0)
        {
            _stored.Pulse(enqueued);
        }
    }

    /// <summary>Keeps this process's leases from running out while it is alive and sending.</summary>
    private Task RenewLeasesAsync(long[] ids) =>
        Submit(new RenewOperation(ids, (_time.GetUtcNow() + _leaseTimeout).ToUnixTimeMilliseconds(), Owner));

    /// <summary>
    /// Copies the log into the database once a second, on the reader's connection, so that the writer never waits
    /// for the disk's flush and the log does not grow without end; then gives the pages a drained backlog freed back
    /// to the disk, a bounded step at a time through the writer.
    /// </summary>
    private async Task CheckpointLoopAsync()
    {
        using var timer = new PeriodicTimer(CheckpointInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token).ConfigureAwait(false))
            {
                var (logFrames, freePages) = await CheckpointAsync().ConfigureAwait(false);
                if (logFrames >= WalTruncateFrames)
                {
                    await TruncateLogAsync().ConfigureAwait(false);
                }

                if (freePages < VacuumThresholdPages)
                {
                    continue;
                }

                // Once started, every free page goes (the last step takes what is left).
                for (var step = 0; step < VacuumStepsPerTick && freePages > 0; step++)
                {
                    freePages = await Submit(new VacuumOperation()).ConfigureAwait(false);
                }

                if (freePages == 0)
                {
                    // Done: copy the moved pages into the database, which cuts the file, then empty the log. The copy
                    // runs passive, beside the writer; the truncation then holds the writer off only for a moment.
                    await CheckpointAsync().ConfigureAwait(false);
                    await TruncateLogAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closing.
        }
        catch (ObjectDisposedException)
        {
            // Closing: the writer no longer takes operations.
        }
    }

    /// <summary>
    /// A passive checkpoint, beside the writer; returns how many frames the log holds and how many pages of the database
    /// are free (zeros when it failed).
    /// </summary>
    private async Task<(long LogFrames, long FreePages)> CheckpointAsync()
    {
        await _readLock.WaitAsync(_closing.Token).ConfigureAwait(false);
        try
        {
            long logFrames;
            using (var checkpoint = _readConnection.CreateCommand())
            {
                // One row: busy, frames in the log, frames copied into the database.
                checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                using var reader = checkpoint.ExecuteReader();
                logFrames = reader.Read() ? reader.GetInt64(1) : 0;
            }

            return (logFrames, Scalar(_readConnection, "PRAGMA freelist_count"));
        }
        catch (SqliteException ex)
        {
            Log.CheckpointFailed(_logger, ex);
            return (0, 0);
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <summary>
    /// Empties the log (right after a passive checkpoint, little is left to copy). It needs a moment without a writer:
    /// it waits for one at most <see cref="TruncateBusyTimeoutMs"/> and otherwise gives up until the next tick.
    /// </summary>
    private async Task TruncateLogAsync()
    {
        await _readLock.WaitAsync(_closing.Token).ConfigureAwait(false);
        try
        {
            Execute(_readConnection, $"PRAGMA busy_timeout = {TruncateBusyTimeoutMs}; PRAGMA wal_checkpoint(TRUNCATE);");
        }
        catch (SqliteException ex)
        {
            Log.CheckpointFailed(_logger, ex);
        }
        finally
        {
            try
            {
                Execute(_readConnection, "PRAGMA busy_timeout = 5000;");
            }
            catch (SqliteException ex)
            {
                Log.CheckpointFailed(_logger, ex);
            }

            _readLock.Release();
        }
    }

    /// <summary>How every connection to an outbox file is opened (the identity store's too).</summary>
    internal static string ConnectionString(string fullPath) => new SqliteConnectionStringBuilder
    {
        DataSource = fullPath,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = false,
        DefaultTimeout = 30,
    }.ToString();

    private static void CreateSchema(SqliteConnection connection, string path, ILogger logger)
    {
        // Incremental vacuuming lets the file shrink after a backlog drains (the checkpointer runs it, in steps). It can
        // only be chosen before the first table exists; a file from an earlier version is rebuilt once, below.
        Execute(connection, "PRAGMA auto_vacuum = INCREMENTAL;");

        // WAL: readers never wait for the writer, and a commit appends to the log instead of rewriting pages.
        // synchronous=NORMAL: a commit is in the log, in the operating system's hands, before the enqueue completes,
        // so it survives the process being killed; only the checkpoints (below, off the writer) wait for the disk.
        // A power loss may lose the commits since the last checkpoint.
        using var journal = new SqliteCommand("PRAGMA journal_mode = WAL;", connection);
        var mode = Convert.ToString(journal.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"MetaConversions:Outbox:Path: the file system does not support SQLite's WAL mode (got '{mode}').");
        }

        Execute(connection, $"PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA busy_timeout = 5000; PRAGMA journal_size_limit = {WalSizeLimit};");
        var version = Scalar(connection, "PRAGMA user_version");
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException(
                $"MetaConversions:Outbox:Path: the SQLite outbox was created by a newer version of CapiMiddleware (schema {version}).");
        }

        Execute(connection, """
            CREATE TABLE IF NOT EXISTS outbox (
                id            INTEGER PRIMARY KEY,
                pixel_id      TEXT    NOT NULL,
                event_name    TEXT    NOT NULL,
                event_id      TEXT    NOT NULL,
                event_time    INTEGER NOT NULL,
                action_source TEXT    NOT NULL,
                payload       BLOB    NOT NULL,
                enqueued_at   INTEGER NOT NULL,
                attempts      INTEGER NOT NULL DEFAULT 0,
                due_at        INTEGER,
                lease_owner   TEXT,
                dead_reason   TEXT,
                dead_at       INTEGER
            );
            CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at, id) WHERE due_at IS NOT NULL;
            CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (dead_at, id) WHERE dead_at IS NOT NULL;
            PRAGMA user_version = 1;
            """);

        if (Scalar(connection, "PRAGMA auto_vacuum") != IncrementalVacuum)
        {
            TurnOnIncrementalVacuum(connection, path, logger);
        }
    }

    /// <summary>
    /// A file created before incremental vacuuming keeps its largest size for ever: rebuild it once (VACUUM, which
    /// applies the mode set above). VACUUM is one transaction: if it fails (another process reads the file), nothing
    /// changes and the next start tries again.
    /// </summary>
    private static void TurnOnIncrementalVacuum(SqliteConnection connection, string path, ILogger logger)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            Execute(connection, "VACUUM;");
            Log.SqliteOutboxRebuilt(logger, path, clock.Elapsed);
        }
        catch (SqliteException ex)
        {
            Log.SqliteOutboxRebuildFailed(logger, path, ex);
        }
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
