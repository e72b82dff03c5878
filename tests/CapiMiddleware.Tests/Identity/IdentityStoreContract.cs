using CapiMiddleware.Records;
using CapiMiddleware.Identity;
using Microsoft.Extensions.Time.Testing;

namespace CapiMiddleware.Tests.Identity;

/// <summary>
/// What every identity store promises the payment webhook, run against each real store: memory, SQLite on a temporary
/// file, Redis on a real redis-server. Time is the caller's (a <see cref="FakeTimeProvider"/>), never waited for.
/// </summary>
public abstract class IdentityStoreContract : IAsyncLifetime
{
    private readonly List<IKeptRecords<CapturedIdentity>> _opened = [];

    private protected FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    private protected static TimeSpan Lifetime { get; } = TimeSpan.FromDays(3);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            if (store is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task A_saved_identity_is_taken_once_with_every_field()
    {
        var store = Open();
        var saved = Identity("a");
        await store.SaveAsync("order-1", saved, Time.GetUtcNow() + Lifetime, default);

        var taken = await store.TakeAsync("order-1", Time.GetUtcNow(), default);

        AssertSameIdentity(saved, taken);
        Assert.Null(await store.TakeAsync("order-1", Time.GetUtcNow(), default));
        Assert.Equal(0, await store.CountAsync(default));
    }

    [SkippableFact]
    public async Task A_found_record_stays_until_it_is_taken_or_expires()
    {
        var store = Open();
        var saved = Identity("a");
        var expiresAt = Time.GetUtcNow() + TimeSpan.FromHours(1);
        await store.SaveAsync("order-1", saved, expiresAt, default);

        AssertSameIdentity(saved, await store.FindAsync("order-1", Time.GetUtcNow(), default));
        AssertSameIdentity(saved, await store.FindAsync("order-1", Time.GetUtcNow(), default));
        Assert.Null(await store.FindAsync("order-2", Time.GetUtcNow(), default));
        Assert.Null(await store.FindAsync("order-1", expiresAt, default));
        Assert.Equal(1, await store.CountAsync(default));
        AssertSameIdentity(saved, await store.TakeAsync("order-1", Time.GetUtcNow(), default));
        Assert.Null(await store.FindAsync("order-1", Time.GetUtcNow(), default));
    }

    [SkippableFact]
    public async Task A_tombstone_without_consent_is_kept_as_such()
    {
        var store = Open();
        var tombstone = new CapturedIdentity(false, null, null, null, null, null, new Dictionary<string, string[]>(), Time.GetUtcNow());
        await store.SaveAsync("order-1", tombstone, Time.GetUtcNow() + Lifetime, default);

        AssertSameIdentity(tombstone, await store.TakeAsync("order-1", Time.GetUtcNow(), default));
    }

    [SkippableFact]
    public async Task Saving_under_a_key_again_replaces_what_it_held()
    {
        var store = Open();
        await store.SaveAsync("order-1", Identity("first"), Time.GetUtcNow() + Lifetime, default);
        var second = Identity("second");
        await store.SaveAsync("order-1", second, Time.GetUtcNow() + Lifetime, default);

        Assert.Equal(1, await store.CountAsync(default));
        AssertSameIdentity(second, await store.TakeAsync("order-1", Time.GetUtcNow(), default));
        Assert.Null(await store.TakeAsync("order-1", Time.GetUtcNow(), default));
    }

    [SkippableFact]
    public async Task An_expired_identity_is_not_taken_and_is_gone()
    {
        var store = Open();
        var expiresAt = Time.GetUtcNow() + TimeSpan.FromHours(1);
        await store.SaveAsync("late", Identity("late"), expiresAt, default);
        await store.SaveAsync("on-time", Identity("on-time"), expiresAt, default);

        Assert.NotNull(await store.TakeAsync("on-time", expiresAt - TimeSpan.FromMilliseconds(1), default));
        Assert.Null(await store.TakeAsync("late", expiresAt, default));
        Assert.Null(await store.TakeAsync("late", Time.GetUtcNow(), default)); // deleted, not just hidden
    }

    [SkippableFact]
    public async Task An_identity_saved_already_expired_is_never_taken()
    {
        var store = Open();
        await store.SaveAsync("order-1", Identity("a"), Time.GetUtcNow() - TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("order-2", Identity("b"), DateTimeOffset.UnixEpoch, default);

        Assert.Null(await store.TakeAsync("order-1", Time.GetUtcNow(), default));
        Assert.Null(await store.TakeAsync("order-2", Time.GetUtcNow(), default));
    }

    [SkippableFact]
    public async Task An_unknown_key_is_null()
    {
        var store = Open();
        await store.SaveAsync("order-1", Identity("a"), Time.GetUtcNow() + Lifetime, default);

        Assert.Null(await store.TakeAsync("order-2", Time.GetUtcNow(), default));
        Assert.Null(await store.TakeAsync("ORDER-1", Time.GetUtcNow(), default)); // keys are compared byte for byte
        Assert.Equal(1, await store.CountAsync(default));
    }

    [SkippableFact]
    public async Task Many_keys_are_counted_and_each_is_taken_with_its_own_identity()
    {
        var store = Open();
        const int Count = 300;
        for (var i = 0; i < Count; i++)
        {
            await store.SaveAsync($"order-{i}", Identity($"visitor-{i}"), Time.GetUtcNow() + Lifetime, default);
        }

        Assert.Equal(Count, await store.CountAsync(default));
        for (var i = Count - 1; i >= 0; i--)
        {
            var taken = await store.TakeAsync($"order-{i}", Time.GetUtcNow(), default);
            Assert.Equal($"fb.1.1700000000000.visitor-{i}", taken?.ClickId);
        }

        Assert.Equal(0, await store.CountAsync(default));
    }

    [SkippableFact]
    public async Task Two_webhooks_taking_one_key_at_once_get_it_once()
    {
        var store = Open();
        await store.SaveAsync("order-1", Identity("a"), Time.GetUtcNow() + Lifetime, default);

        var takes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.TakeAsync("order-1", Time.GetUtcNow(), default).AsTask())));

        Assert.Single(takes, t => t is not null);
    }

    [SkippableFact]
    public async Task Expired_identities_are_swept_as_new_ones_are_saved()
    {
        var store = Open();
        for (var i = 0; i < 10; i++)
        {
            await store.SaveAsync($"old-{i}", Identity("old"), Time.GetUtcNow() + TimeSpan.FromMinutes(1), default);
        }

        Time.Advance(TimeSpan.FromMinutes(2));
        await store.SaveAsync("new", Identity("new"), Time.GetUtcNow() + Lifetime, default);

        Assert.Equal(1, await store.CountAsync(default));
        Assert.NotNull(await store.TakeAsync("new", Time.GetUtcNow(), default));
    }

    /// <summary>A new store instance; the contract disposes it.</summary>
    private protected IKeptRecords<CapturedIdentity> Open()
    {
        var store = CreateStore();
        _opened.Add(store);
        return store;
    }

    private protected abstract IKeptRecords<CapturedIdentity> CreateStore();

    private protected CapturedIdentity Identity(string visitor) => new(
        true,
        $"fb.1.1700000000000.{visitor}",
        "fb.1.1700000000000.1116446470",
        "203.0.113.7",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
        "https://shop.example/checkout?step=pay",
        new Dictionary<string, string[]>
        {
            ["em"] = ["973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"],
            ["ph"] = ["254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"],
        },
        Time.GetUtcNow());

    private protected static void AssertSameIdentity(CapturedIdentity expected, CapturedIdentity? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(
            (expected.Consent, expected.ClickId, expected.BrowserId, expected.ClientIpAddress, expected.UserAgent, expected.PageUrl, expected.CapturedAt),
            (actual.Consent, actual.ClickId, actual.BrowserId, actual.ClientIpAddress, actual.UserAgent, actual.PageUrl, actual.CapturedAt));
        Assert.Equal(
            expected.HashedUserData.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, string.Join(",", kv.Value))),
            actual.HashedUserData.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, string.Join(",", kv.Value))));
    }
}

/// <summary>What a store shared by a restart or by several nodes promises besides: another instance sees the same identities.</summary>
public abstract class SharedIdentityStoreContract : IdentityStoreContract
{
    [SkippableFact]
    public async Task Another_instance_takes_what_the_first_saved_and_then_neither_has_it()
    {
        var checkout = Open();
        var webhook = Open();
        var saved = Identity("a");
        await checkout.SaveAsync("order-1", saved, Time.GetUtcNow() + Lifetime, default);

        Assert.Equal(1, await webhook.CountAsync(default));
        AssertSameIdentity(saved, await webhook.TakeAsync("order-1", Time.GetUtcNow(), default));
        Assert.Null(await checkout.TakeAsync("order-1", Time.GetUtcNow(), default));
    }

    [SkippableFact]
    public async Task An_identity_outlives_the_store_instance_that_saved_it()
    {
        var saved = Identity("a");
        var before = CreateStore();
        await before.SaveAsync("order-1", saved, Time.GetUtcNow() + Lifetime, default);
        await ((IAsyncDisposable)before).DisposeAsync();

        var after = Open();
        AssertSameIdentity(saved, await after.TakeAsync("order-1", Time.GetUtcNow(), default));
    }
}
