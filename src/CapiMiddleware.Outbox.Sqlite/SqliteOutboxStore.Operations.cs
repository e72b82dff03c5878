using Microsoft.Data.Sqlite;

namespace CapiMiddleware.Outbox.Sqlite;

/// <summary>The writes of <see cref="SqliteOutboxStore"/>: each one an operation the single writer runs in its transaction.</summary>
internal sealed partial class SqliteOutboxStore
{
    private abstract class WriteOperation
    {
        /// <summary>Runs inside the writer's transaction; may run again, alone, if a neighbour failed the transaction.</summary>
        public abstract void Execute(Commands commands, long now);

        /// <summary>The transaction is committed.</summary>
        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private abstract class WriteOperation<T> : WriteOperation
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _done.Task;

        public override void Complete() => _done.TrySetResult(Result());

        public override void Fail(Exception exception) => _done.TrySetException(exception);

        protected abstract T Result();
    }

    private sealed class EnqueueOperation(OutboxEntry entry) : WriteOperation<bool>
    {
        public override void Execute(Commands commands, long now)
        {
            var insert = commands.Insert;
            insert.Parameters["$pixel"].Value = entry.PixelId;
            insert.Parameters["$name"].Value = entry.EventName;
            insert.Parameters["$id"].Value = entry.EventId;
            insert.Parameters["$time"].Value = entry.EventTime;
            insert.Parameters["$source"].Value = entry.ActionSource;
            insert.Parameters["$payload"].Value = entry.Payload;
            insert.Parameters["$enqueued"].Value = entry.EnqueuedAt.ToUnixTimeMilliseconds();
            insert.Parameters["$attempts"].Value = entry.FailedAttempts;
            insert.Parameters["$due"].Value = now;
            insert.ExecuteNonQuery();
        }

        protected override bool Result() => true;
    }

    private sealed class LeaseOperation(int maxCount, SqliteOutboxStore store) : WriteOperation<List<OutboxEntry>>
    {
        private readonly List<(OutboxEntry Entry, long Id)> _leased = [];

        public override void Execute(Commands commands, long now)
        {
            _leased.Clear();
            var lease = commands.Lease;
            lease.Parameters["$owner"].Value = store.Owner;
            lease.Parameters["$until"].Value = now + (long)store._leaseTimeout.TotalMilliseconds;
            lease.Parameters["$now"].Value = now;
            lease.Parameters["$max"].Value = maxCount;
            using var reader = lease.ExecuteReader();
            while (reader.Read())
            {
                var entry = new OutboxEntry
                {
                    PixelId = reader.GetString(1),
                    EventName = reader.GetString(2),
                    EventId = reader.GetString(3),
                    EventTime = reader.GetInt64(4),
                    ActionSource = reader.GetString(5),
                    Payload = reader.GetFieldValue<byte[]>(6),
                    EnqueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
                    FailedAttempts = reader.GetInt32(8),
                };
                _leased.Add((entry, reader.GetInt64(0)));
            }
        }

        public override void Complete()
        {
            // Held before the sender sees them, so the renewer keeps their leases alive.
            _leased.Sort(static (a, b) => a.Id.CompareTo(b.Id));
            _leased.RemoveAll(l => !store._held.TryAdd(l.Entry, l.Id));
            base.Complete();
        }

        protected override List<OutboxEntry> Result() => _leased.ConvertAll(static l => l.Entry);
    }

    private sealed class AcknowledgeOperation(List<(OutboxEntry Entry, long Id)> rows) : WriteOperation<bool>
    {
        public override void Execute(Commands commands, long now)
        {
            // Meta has it: the row goes, whoever holds its lease now.
            foreach (var (_, id) in rows)
            {
                commands.Delete.Parameters["$id"].Value = id;
                commands.Delete.ExecuteNonQuery();
            }
        }

        protected override bool Result() => true;
    }

    private sealed class RetryOperation(List<(OutboxEntry Entry, long Id)> rows, long dueAt, string owner) : WriteOperation<bool>
    {
        public override void Execute(Commands commands, long now)
        {
            var retry = commands.Retry;
            retry.Parameters["$due"].Value = dueAt;
            retry.Parameters["$owner"].Value = owner;
            foreach (var (entry, id) in rows)
            {
                retry.Parameters["$id"].Value = id;
                retry.Parameters["$attempts"].Value = entry.FailedAttempts;
                retry.ExecuteNonQuery();
            }
        }

        protected override bool Result() => true;
    }

    private sealed class DeadLetterOperation(List<(OutboxEntry Entry, long Id)> rows, string reason, string owner) : WriteOperation<bool>
    {
        public override void Execute(Commands commands, long now)
        {
            var dead = commands.DeadLetter;
            dead.Parameters["$reason"].Value = reason;
            dead.Parameters["$now"].Value = now;
            dead.Parameters["$owner"].Value = owner;
            foreach (var (_, id) in rows)
            {
                dead.Parameters["$id"].Value = id;
                dead.ExecuteNonQuery();
            }

            commands.PruneDeadLetters.ExecuteNonQuery();
        }

        protected override bool Result() => true;
    }

    private sealed class RenewOperation(long[] ids, long until, string owner) : WriteOperation<bool>
    {
        public override void Execute(Commands commands, long now)
        {
            var renew = commands.Renew;
            renew.Parameters["$until"].Value = until;
            renew.Parameters["$owner"].Value = owner;
            foreach (var id in ids)
            {
                renew.Parameters["$id"].Value = id;
                renew.ExecuteNonQuery();
            }
        }

        protected override bool Result() => true;
    }

    private sealed class ReleaseOperation(string owner) : WriteOperation<bool>
    {
        public override void Execute(Commands commands, long now)
        {
            commands.Release.Parameters["$owner"].Value = owner;
            commands.Release.Parameters["$now"].Value = now;
            commands.Release.ExecuteNonQuery();
        }

        protected override bool Result() => true;
    }

    /// <summary>
    /// Gives up to <see cref="VacuumPagesPerStep"/> free pages back to the disk (the file shrinks at the next
    /// checkpoint); returns how many free pages are left.
    /// </summary>
    private sealed class VacuumOperation : WriteOperation<long>
    {
        private long _left;

        public override void Execute(Commands commands, long now)
        {
            using (var reader = commands.IncrementalVacuum.ExecuteReader())
            {
                while (reader.Read())
                {
                    // Each row is one page moved; reading them all runs the whole step.
                }
            }

            _left = Convert.ToInt64(commands.FreePages.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        protected override long Result() => _left;
    }

    /// <summary>The writer's statements, prepared once.</summary>
    private sealed class Commands : IDisposable
    {
        private readonly SqliteCommand[] _all;

        public Commands(SqliteConnection connection)
        {
            Insert = Create(connection, """
                INSERT INTO outbox (pixel_id, event_name, event_id, event_time, action_source, payload, enqueued_at, attempts, due_at)
                VALUES ($pixel, $name, $id, $time, $source, $payload, $enqueued, $attempts, $due)
                """, "$pixel", "$name", "$id", "$time", "$source", "$payload", "$enqueued", "$attempts", "$due");
            Lease = Create(connection, """
                UPDATE outbox SET lease_owner = $owner, due_at = $until
                WHERE id IN (SELECT id FROM outbox WHERE due_at IS NOT NULL AND due_at <= $now ORDER BY due_at, id LIMIT $max)
                RETURNING id, pixel_id, event_name, event_id, event_time, action_source, payload, enqueued_at, attempts
                """, "$owner", "$until", "$now", "$max");
            Delete = Create(connection, "DELETE FROM outbox WHERE id = $id AND dead_at IS NULL", "$id");
            Retry = Create(connection,
                "UPDATE outbox SET lease_owner = NULL, due_at = $due, attempts = $attempts WHERE id = $id AND lease_owner = $owner",
                "$due", "$attempts", "$id", "$owner");
            DeadLetter = Create(connection, """
                UPDATE outbox SET lease_owner = NULL, due_at = NULL, payload = x'', dead_reason = $reason, dead_at = $now
                WHERE id = $id AND lease_owner = $owner
                """, "$reason", "$now", "$id", "$owner");
            PruneDeadLetters = Create(connection, $"""
                DELETE FROM outbox WHERE dead_at IS NOT NULL AND id NOT IN
                    (SELECT id FROM outbox WHERE dead_at IS NOT NULL ORDER BY dead_at DESC, id DESC LIMIT {DeadLetterHistory})
                """);
            Renew = Create(connection, "UPDATE outbox SET due_at = $until WHERE id = $id AND lease_owner = $owner", "$until", "$id", "$owner");
            Release = Create(connection,
                "UPDATE outbox SET lease_owner = NULL, due_at = $now WHERE lease_owner = $owner AND due_at IS NOT NULL",
                "$owner", "$now");
            // A pragma takes no parameters: the step's size is part of the statement.
            IncrementalVacuum = Create(connection, $"PRAGMA incremental_vacuum({VacuumPagesPerStep})");
            FreePages = Create(connection, "PRAGMA freelist_count");
            _all = [Insert, Lease, Delete, Retry, DeadLetter, PruneDeadLetters, Renew, Release, IncrementalVacuum, FreePages];
        }

        public SqliteCommand Insert { get; }

        public SqliteCommand Lease { get; }

        public SqliteCommand Delete { get; }

        public SqliteCommand Retry { get; }

        public SqliteCommand DeadLetter { get; }

        public SqliteCommand PruneDeadLetters { get; }

        public SqliteCommand Renew { get; }

        public SqliteCommand Release { get; }

        public SqliteCommand IncrementalVacuum { get; }

        public SqliteCommand FreePages { get; }

        public void Use(SqliteTransaction transaction)
        {
            foreach (var command in _all)
            {
                command.Transaction = transaction;
            }
        }

        public void Dispose()
        {
            foreach (var command in _all)
            {
                command.Dispose();
            }
        }

        private static SqliteCommand Create(SqliteConnection connection, string sql, params string[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            return command;
        }
    }
}
