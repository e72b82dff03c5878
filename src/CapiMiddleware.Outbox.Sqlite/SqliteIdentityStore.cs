using CapiMiddleware.Identity;
using Microsoft.Data.Sqlite;

namespace CapiMiddleware.Outbox.Sqlite;

/// <summary>
/// Identities in the <c>sqlite</c> outbox's file (<c>MetaConversions:Outbox:Path</c>), in a table of their own, so they
/// survive a restart as the queued events do:
/// <c>identities(key TEXT PRIMARY KEY, payload BLOB, expires_at INTEGER)</c>, the payload being the identity's JSON and
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
internal sealed class SqliteIdentityStore : IIdentityStore, IAsyncDisposable
{
    // More than one row goes per save, so a sweep always outpaces the saves that feed it.
    private const int SweepPerSave = 16;

    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private int _disposed;

    private SqliteIdentityStore(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (or creates) the file and the table; a failure names the setting, so a wrong path stops the app at start.</summary>
    public static SqliteIdentityStore Open(string path)
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
                CREATE TABLE IF NOT EXISTS identities (
                    key        TEXT    PRIMARY KEY,
                    payload    BLOB    NOT NULL,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS identities_expiry ON identities (expires_at);
                """);
            return new SqliteIdentityStore(connection);
        }
        catch (Exception ex)
        {
            connection?.Dispose();
            if (ex is SqliteException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException(
                    $"MetaConversions:Outbox:Path: could not keep identities in the SQLite file at '{fullPath}': {ex.Message}", ex);
            }

            throw;
        }
    }

    public async ValueTask SaveAsync(string key, CapturedIdentity identity, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(identity);
        var payload = IdentityJsonContext.Encode(identity);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // BEGIN IMMEDIATE: the busy time-out covers waiting for the outbox's writer, which a deferred transaction
            // upgrading to a write would not wait for.
            using var transaction = _connection.BeginTransaction(deferred: false);
            using (var sweep = _connection.CreateCommand())
            {
                // The caller's clock: the identity was captured now.
                sweep.CommandText = """
                    DELETE FROM identities WHERE key IN
                        (SELECT key FROM identities WHERE expires_at <= $now ORDER BY expires_at LIMIT $limit)
                    """;
                sweep.Parameters.AddWithValue("$now", identity.CapturedAt.ToUnixTimeMilliseconds());
                sweep.Parameters.AddWithValue("$limit", SweepPerSave);
                sweep.ExecuteNonQuery();
            }

            using (var upsert = _connection.CreateCommand())
            {
                upsert.CommandText = """
                    INSERT INTO identities (key, payload, expires_at) VALUES ($key, $payload, $expires)
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

    public async ValueTask<CapturedIdentity?> TakeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] payload;
        long expiresAt;
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // One statement: reads and deletes atomically, also across processes sharing the file.
            using var take = _connection.CreateCommand();
            take.CommandText = "DELETE FROM identities WHERE key = $key RETURNING payload, expires_at";
            take.Parameters.AddWithValue("$key", key);
            using var reader = take.ExecuteReader();
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

        return expiresAt > now.ToUnixTimeMilliseconds() ? IdentityJsonContext.Decode(payload) : null;
    }

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return SqliteOutboxStore.Scalar(_connection, "SELECT COUNT(*) FROM identities");
        }
        finally
        {
            _lock.Release();
        }
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
