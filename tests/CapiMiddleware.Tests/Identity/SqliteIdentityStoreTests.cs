using CapiMiddleware.Records;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.Identity;
using CapiMiddleware.Outbox.Sqlite;
using CapiMiddleware.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace CapiMiddleware.Tests.Identity;

/// <summary>The SQLite store on a temporary file: the contract, two instances as a restart, and the outbox beside it.</summary>
public sealed class SqliteIdentityStoreTests : SharedIdentityStoreContract
{
    private readonly string _folder = Directory.CreateTempSubdirectory("capi-identities-").FullName;

    private string File => Path.Combine(_folder, "outbox.db");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Identities_and_the_outbox_share_the_file_each_in_its_own_table()
    {
        // The identity store first: it creates the file as the outbox wants it (WAL, incremental vacuum, no rebuild).
        var identities = Open();
        await identities.SaveAsync("order-1", Identity("a"), Time.GetUtcNow() + Lifetime, default);
        var outbox = SqliteOutboxStore.Open(
            File, TimeSpan.FromSeconds(1), TimeProvider.System,
            new StaleEntries(TimeProvider.System, TestMeters.NewConversionMetrics(), NullLogger<StaleEntries>.Instance), NullLogger.Instance);
        try
        {
            await outbox.EnqueueAsync(
                new OutboxEntry
                {
                    PixelId = "1234567890",
                    EventName = "Purchase",
                    EventId = "e1",
                    EventTime = Time.GetUtcNow().ToUnixTimeSeconds(),
                    ActionSource = "website",
                    Payload = """{"event_name":"Purchase"}"""u8.ToArray(),
                    EnqueuedAt = Time.GetUtcNow(),
                },
                default);
            await identities.SaveAsync("order-2", Identity("b"), Time.GetUtcNow() + Lifetime, default);

            Assert.NotNull(await identities.TakeAsync("order-1", Time.GetUtcNow(), default));
            Assert.Equal((1, 1), (await outbox.CountAsync(default), await identities.CountAsync(default)));
        }
        finally
        {
            await outbox.DisposeAsync();
        }

        using var connection = new SqliteConnection($"Data Source={File}");
        connection.Open();
        Assert.Equal((2, "wal"), (SqliteOutboxStore.Scalar(connection, "PRAGMA auto_vacuum"), Text(connection, "PRAGMA journal_mode")));
    }

    [Fact]
    public async Task A_path_that_cannot_be_opened_names_the_setting()
    {
        var blocker = Path.Combine(_folder, "not-a-folder");
        await System.IO.File.WriteAllTextAsync(blocker, "");

        var error = Assert.Throws<InvalidOperationException>(() => SqliteKeptRecords<CapturedIdentity>.Open(Path.Combine(blocker, "outbox.db"), CapturedIdentity.Set));

        Assert.StartsWith("MetaConversions:Outbox:Path", error.Message);
    }

    [Fact]
    public async Task A_value_this_version_cannot_read_is_treated_as_unknown_and_removed()
    {
        var store = Open();
        await store.SaveAsync("order-1", Identity("a"), Time.GetUtcNow() + Lifetime, default);
        using (var connection = new SqliteConnection($"Data Source={File}"))
        {
            connection.Open();
            SqliteOutboxStore.Execute(connection, "UPDATE identities SET payload = X'7B7B'");
        }

        Assert.Null(await store.TakeAsync("order-1", Time.GetUtcNow(), default));
        Assert.Equal(0, await store.CountAsync(default));
    }

    private protected override IKeptRecords<CapturedIdentity> CreateStore() => SqliteKeptRecords<CapturedIdentity>.Open(File, CapturedIdentity.Set);

    private static string? Text(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() as string;
    }
}
