using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Events;
using CapiMiddleware.Outbox.Sqlite;
using CapiMiddleware.Outbox.Testing;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace CapiMiddleware.Tests.Dispatch.Outbox;

/// <summary>The SQLite store on a temporary file: the contract, what survives closing and crashing, and its cost.</summary>
public sealed class SqliteOutboxStoreTests(ITestOutputHelper output) : SharedOutboxStoreContract
{
    private StaleEntries Stale { get; } = StaleEntriesContract.NewStale();

    private readonly string _folder = Directory.CreateTempSubdirectory("capi-outbox-").FullName;

    private string PathOf(string name = "outbox.db") => Path.Combine(_folder, name);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Waiting_leased_and_delayed_entries_survive_closing_and_reopening_the_file()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = OpenAt(PathOf(), time);
        foreach (var id in new[] { "a", "b", "c", "d" })
        {
            await first.EnqueueAsync(Entry(id), default);
        }

        var leased = await first.LeaseAsync(2, TimeSpan.Zero, default);
        leased[1].FailedAttempts = 3;
        await first.RetryLaterAsync([leased[1]], TimeSpan.FromMinutes(30), default);
        await first.DisposeAsync(); // "a" is still leased: a clean close gives it back

        var reopened = OpenAt(PathOf(), time);
        Assert.Equal(4, await reopened.CountAsync(default));
        Assert.Equal(["a", "c", "d"], (await reopened.LeaseAsync(10, TimeSpan.Zero, default)).Select(e => e.EventId));

        time.Advance(TimeSpan.FromMinutes(31)); // the retry time was stored with the row
        var retried = Assert.Single(await reopened.LeaseAsync(10, TimeSpan.Zero, default));
        Assert.Equal(("b", 3), (retried.EventId, retried.FailedAttempts));
    }

    [Fact]
    public async Task Entries_leased_by_a_process_that_died_come_back_after_the_lease_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var living = OpenAt(PathOf(), time);
        foreach (var id in new[] { "a", "b", "c" })
        {
            await living.EnqueueAsync(Entry(id), default);
        }

        Assert.Equal(["a", "b"], (await living.LeaseAsync(2, TimeSpan.Zero, default)).Select(e => e.EventId));

        // The files as a kill -9 would leave them at this moment: the database and its write-ahead log, no clean close.
        File.Copy(PathOf(), PathOf("crashed.db"));
        File.Copy(PathOf() + "-wal", PathOf("crashed.db-wal"));
        var restarted = OpenAt(PathOf("crashed.db"), time);

        Assert.Equal(3, await restarted.CountAsync(default));
        Assert.Equal(["c"], (await restarted.LeaseAsync(10, TimeSpan.Zero, default)).Select(e => e.EventId));
        time.Advance(LeaseTimeout - TimeSpan.FromMilliseconds(100));
        Assert.Empty(await restarted.LeaseAsync(10, TimeSpan.Zero, default));
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(["a", "b"], (await restarted.LeaseAsync(10, TimeSpan.Zero, default)).Select(e => e.EventId));
    }

    [Fact]
    public async Task A_path_that_cannot_be_opened_names_the_setting()
    {
        var blocker = PathOf("a-file");
        await File.WriteAllTextAsync(blocker, "not a folder");

        var error = Assert.Throws<InvalidOperationException>(() => OpenAt(Path.Combine(blocker, "outbox.db"), TimeProvider.System));

        Assert.Contains("MetaConversions:Outbox:Path", error.Message);
        Assert.Contains(blocker, error.Message);
    }

    /// <summary>
    /// A backlog of 20,000 realistic events (an outage's worth) fills the file; once it has drained, incremental
    /// vacuuming on the checkpoint timer gives the space back. Sizes are the database plus its write-ahead log.
    /// </summary>
    [Fact]
    public async Task The_file_shrinks_to_a_small_fraction_once_a_backlog_has_drained()
    {
        const int Backlog = 20_000;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = OpenAt(PathOf(), time);
        var empty = FileSize(PathOf());
        for (var start = 0; start < Backlog; start += 500)
        {
            await Task.WhenAll(Enumerable.Range(start, 500).Select(n => store.EnqueueAsync(RealEntry($"e{n}"), default).AsTask()));
        }

        // The checkpointer copies the log into the database on its timer.
        await Eventually.TrueAsync(() => Tick(time) && new FileInfo(PathOf()).Length > Backlog * 500L, $"the backlog is checkpointed into the database ({new FileInfo(PathOf()).Length:N0} B, log {FileSize(PathOf()):N0} B)");
        var full = FileSize(PathOf());

        var drained = 0;
        while (await store.LeaseAsync(1_000, TimeSpan.Zero, default) is { Count: > 0 } batch)
        {
            await store.AcknowledgeAsync(batch, default);
            drained += batch.Count;
        }

        Assert.Equal(Backlog, drained);
        // Done when the log has been emptied: the checkpointer's last step once no free pages are left.
        await Eventually.TrueAsync(
            () => Tick(time) && FileSize(PathOf()) < full / 20 && new FileInfo(PathOf() + "-wal").Length == 0,
            $"the file shrinks below a twentieth of {full:N0} bytes");
        var after = FileSize(PathOf());
        Assert.Equal(0, await store.CountAsync(default));
        output.WriteLine($"SQLite outbox file (database + write-ahead log): new {empty:N0} B, with {Backlog:N0} events {full:N0} B, " +
            $"drained and vacuumed {after:N0} B ({100.0 * after / full:0.0}%).");

        // Still a working outbox.
        await store.EnqueueAsync(RealEntry("after"), default);
        Assert.Equal("after", Assert.Single(await store.LeaseAsync(10, TimeSpan.Zero, default)).EventId);
    }

    [Fact]
    public async Task A_file_from_before_incremental_vacuuming_is_rebuilt_once_and_keeps_its_entries()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = OpenAt(PathOf(), time);
        await first.EnqueueAsync(Entry("kept"), default);
        await first.DisposeAsync();
        // What an earlier version left: the same schema, without auto-vacuum.
        SetAutoVacuum(PathOf(), "NONE");
        Assert.Equal(0, AutoVacuum(PathOf()));

        var logs = new LogCapture();
        var reopened = Track(SqliteOutboxStore.Open(PathOf(), LeaseTimeout, time, Stale, logs.CreateLogger("CapiMiddleware.Outbox")));

        Assert.Equal(2, AutoVacuum(PathOf())); // incremental
        Assert.Single(logs.WithEventId(58));
        Assert.Equal("kept", Assert.Single(await reopened.LeaseAsync(10, TimeSpan.Zero, default)).EventId);
        await reopened.DisposeAsync();

        var again = new LogCapture();
        Track(SqliteOutboxStore.Open(PathOf(), LeaseTimeout, time, Stale, again.CreateLogger("CapiMiddleware.Outbox")));
        Assert.Empty(again.WithEventId(58)); // once
    }

    private static bool Tick(FakeTimeProvider time)
    {
        time.Advance(TimeSpan.FromSeconds(1));
        return true;
    }

    private static long FileSize(string path) =>
        new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);

    private static long AutoVacuum(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA auto_vacuum";
        return (long)command.ExecuteScalar()!;
    }

    private static void SetAutoVacuum(string path, string mode)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA auto_vacuum = {mode}; VACUUM;";
        command.ExecuteNonQuery();
    }

    // The wire form of a typical purchase, as the queue stores it.
    private static OutboxEntry RealEntry(string eventId)
    {
        var now = DateTimeOffset.UtcNow;
        var wire = GraphEventWriter.TryCreate(SampleEvents.Purchase(eventId), eventId, now, out _)!;
        return new OutboxEntry
        {
            PixelId = "1234567890",
            EventName = wire.EventName,
            EventId = eventId,
            EventTime = wire.EventTime,
            ActionSource = wire.ActionSource,
            Payload = GraphEventWriter.Serialize(wire),
            EnqueuedAt = now,
        };
    }

    [SkippableFact]
    public Task Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason() =>
        StaleEntriesContract.Entries_too_old_for_Meta_are_dropped_when_leased_with_a_counted_reason(Open(), Stale, Entry);

    protected override IOutboxStore CreateStore(TimeProvider time) =>
        SqliteOutboxStore.Open(PathOf(), LeaseTimeout, time, Stale, NullLogger.Instance);

    private SqliteOutboxStore OpenAt(string path, TimeProvider time) =>
        Track(SqliteOutboxStore.Open(path, LeaseTimeout, time, Stale, NullLogger.Instance));
}
