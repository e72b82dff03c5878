using CapiMiddleware.Records;
using Microsoft.Data.Sqlite;

namespace CapiMiddleware.Outbox.Sqlite;

/// <summary>
/// Kept records in the <c>sqlite</c> outbox's file (<c>MetaConversions:Outbox:Path</c>), each set in a table of its own
/// (<see cref="KeptRecordSet{T}.Name"/>), so they survive a restart as the queued events do: for the identities
/// <c>identities(key TEXT PRIMARY KEY, payload BLOB, expires_at INTEGER)</c>, the payload being the record's JSON and
/// <c>expires_at</c> Unix milliseconds.
/// </summary>
/// <remarks>
/// One connection of its own beside the outbox's writer, opened the same way (WAL, busy time-out). Every write is one
/// short statement or transaction, which waits for the outbox's commit when it holds the file. A save also deletes up
/// to a few expired rows, oldest expiry first (an index on <c>expires_at</c>), so the table never grows past what the
/// traffic of one lifetime leaves; a take reads and deletes in one statement (<c>DELETE ... RETURNING</c>), so two
/// webhooks for one order cannot both take the identity. Checkpoints are left to the outbox store, which runs in the
/// same process whenever this store is used.
/// </remarks>
/// <typeparam name="T">The record.</typeparam>
internal sealed class SqliteKeptRecords<T> : IKeptRecords<T>, IAsyncDisposable
    where T : class, IKeptRecord
{
    // More than one row goes per save, so a sweep always outpaces the saves that feed it.
    private const int SweepPerSave = 16;

    private readonly SqliteConnection _connection;
    private readonly KeptRecordSet<T> _set;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private int _disposed;

    private SqliteKeptRecords(SqliteConnection connection, KeptRecordSet<T> set)
    {
        _connection = connection;
        _set = set;
    }

    /// <summary>Opens (or creates) the file and the table; a failure names the setting, so a wrong path stops the app at start.</summary>
    public static SqliteKeptRecords<T> Open(string path, KeptRecordSet<T> set)
    {
        var fullPath = Path.GetFullPath(path);
        SqliteConnection? connection = null;
        try
        {
            if (Path.GetDirectoryName(fullPath) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }

            connection = new SqliteConnection(SqliteOutboxStore.ConnectionString(fullPath));
            connection.Open();

            // Chosen before the first table exists when this store creates the file (the outbox wants it so, and could
            // only get it afterwards by rebuilding the file). No effect on a file that already has tables.
            SqliteOutboxStore.Execute(connection, "PRAGMA auto_vacuum = INCREMENTAL;");
            using (var journal = new SqliteCommand("PRAGMA journal_mode = WAL;", connection))
            {
                var mode = Convert.ToString(journal.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"MetaConversions:Outbox:Path: the file system does not support SQLite's WAL mode (got '{mode}').");
                }
            }

            SqliteOutboxStore.Execute(connection, """
                PRAGMA synchronous = NORMAL;
                PRAGMA wal_autocheckpoint = 0;
                PRAGMA busy_timeout = 5000;
                """);
            SqliteOutboxStore.Execute(connection, $"""
                CREATE TABLE IF NOT EXISTS {set.Name} (
                    key        TEXT    PRIMARY KEY,
                    payload    BLOB    NOT NULL,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS {set.Name}_expiry ON {set.Name} (expires_at);
                """);
            return new SqliteKeptRecords<T>(connection, set);
        }
        catch (Exception ex)
        {
            connection?.Dispose();
            if (ex is SqliteException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException(
                    $"MetaConversions:Outbox:Path: could not keep {set.Name.Replace('_', ' ')} in the SQLite file at '{fullPath}': {ex.Message}", ex);
            }

            throw;
        }
    }

    public async ValueTask SaveAsync(string key, T record, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(record);
        var payload = _set.Encode(record);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // BEGIN IMMEDIATE: the busy time-out covers waiting for the outbox's writer, which a deferred transaction
            // upgrading to a write would not wait for.
            using var transaction = _connection.BeginTransaction(deferred: false);
            using (var sweep = _connection.CreateCommand())
            {
                // The caller's clock: the record was kept now.
                sweep.CommandText = $"""
                    DELETE FROM {_set.Name} WHERE key IN
                        (SELECT key FROM {_set.Name} WHERE expires_at <= $now ORDER BY expires_at LIMIT $limit)
                    """;
                sweep.Parameters.AddWithValue("$now", record.KeptAt.ToUnixTimeMilliseconds());
                sweep.Parameters.AddWithValue("$limit", SweepPerSave);
                sweep.ExecuteNonQuery();
            }

            using (var upsert = _connection.CreateCommand())
            {
                upsert.CommandText = $"""
                    INSERT INTO {_set.Name} (key, payload, expires_at) VALUES ($key, $payload, $expires)
                    ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at
                    """;
                upsert.Parameters.AddWithValue("$key", key);
                upsert.Parameters.Add("$payload", SqliteType.Blob).Value = payload;
                upsert.Parameters.AddWithValue("$expires", expiresAt.ToUnixTimeMilliseconds());
                upsert.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        finally
        {
            _lock.Release();
        }
    }

    public ValueTask<T?> TakeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync($"DELETE FROM {_set.Name} WHERE key = $key RETURNING payload, expires_at", key, now, cancellationToken);

    public ValueTask<T?> FindAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync($"SELECT payload, expires_at FROM {_set.Name} WHERE key = $key", key, now, cancellationToken);

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return SqliteOutboxStore.Scalar(_connection, $"SELECT COUNT(*) FROM {_set.Name}");
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The record one statement returns (a take reads and deletes atomically, also across processes sharing the file).</summary>
    private async ValueTask<T?> ReadAsync(string statement, string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] payload;
        long expiresAt;
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var read = _connection.CreateCommand();
            read.CommandText = statement;
            read.Parameters.AddWithValue("$key", key);
            using var reader = read.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            payload = (byte[])reader.GetValue(0);
            expiresAt = reader.GetInt64(1);
        }
        finally
        {
            _lock.Release();
        }

        return expiresAt > now.ToUnixTimeMilliseconds() ? _set.Decode(payload) : null;
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _connection.Dispose();
            _lock.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
