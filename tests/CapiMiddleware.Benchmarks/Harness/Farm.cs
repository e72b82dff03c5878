using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Dispatch;
using CapiMiddleware.Dispatch.Outbox;
using CapiMiddleware.FakeGraph;
using CapiMiddleware.Outbox.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace CapiMiddleware.Benchmarks.Harness;

/// <summary>
/// A web farm on one Redis (<c>-- farm</c>): 2, then 4, node processes (<see cref="FarmNode"/>: the library's sending
/// side in a generic host, not the sample shop, whose Razor checkout would cap the rate at what two cores can render)
/// on one <see cref="RedisProcess"/>, all with the Redis outbox under one key prefix, sending to one count-only fake
/// Graph that tallies each event ID and which node sent it. In one run: the sample shop's checkout with the Redis
/// outbox against the memory outbox (<see cref="CheckoutLatency"/>'s apps, taking turns); then, per farm, passes of
/// events enqueued on every node until acknowledged by Graph (the rate settles as in <see cref="Throughput"/>), with
/// the CPU time of nodes, Redis and Graph and Redis's time by command, every event checked sent once; then a burst
/// during which one node is stopped until it holds leases and killed with SIGKILL, after which every event it had
/// acknowledged to its callers must reach Graph through the others once its lease has expired
/// (<c>Outbox:LeaseTimeout</c> shortened for the run). A copy sent by two nodes is a lease that expired (the only way
/// a second node gets an entry the group gave the first); a copy sent twice by one node is unexplained. One 2-node
/// farm runs with the follow-up index on (<c>FollowUps:Events</c> Purchase; off by default), to show what it costs.
/// </summary>
internal static class Farm
{
    private const int MaxPasses = 6;
    private const int ProducersPerNode = 64;
    private const double TargetEventsPerSecond = 50_000;

    public static async Task<bool> RunAsync(bool smoke)
    {
        await using var redis = await RedisProcess.StartAsync();
        if (redis is null)
        {
            // As the outbox harness: a developer's smoke run goes on without it, CI's and a real run fail.
            Console.WriteLine("redis-server is not installed (sudo apt-get install redis-server): the farm cannot run.");
            return smoke && Environment.GetEnvironmentVariable("CI") != "true";
        }

        var ok = await CheckoutAsync(redis, smoke);
        // The follow-up index (every Purchase remembered in Redis for later values, two more writes per checkout; off by
        // default) on in one farm, to show its share; a smoke run has only the first farm.
        FarmShape[] farms = smoke ? [new(2, FollowUps: false, Kill: true)] : [new(2, false, true), new(2, true, false), new(4, false, true)];
        foreach (var farm in farms)
        {
            ok &= await RunFarmAsync(redis, farm, smoke);
        }

        return ok;
    }

    /// <summary>The sample shop's checkout, memory outbox against Redis outbox (one shopper each, taking turns), Redis healthy.</summary>
    private static async Task<bool> CheckoutAsync(RedisProcess redis, bool smoke)
    {
        var warmUp = smoke ? 1 : 500;
        var turns = smoke ? 5 : 2_000;
        Console.WriteLine($"## Checkout, memory outbox against redis outbox (with and without the follow-up index), Redis healthy: {warmUp} checkouts each not recorded, " +
            $"then turns until the JIT is quiet, then {turns:N0} turns recorded");
        await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true });
        CheckoutLatency.Variant[] apps =
        [
            new("library, memory outbox", "/checkout", 1, turns, new()),
            new("library, redis outbox", "/checkout", 1, turns, new()
            {
                ["MetaConversions:Outbox:Provider"] = "redis",
                ["MetaConversions:Outbox:Redis"] = redis.ConnectionString,
                ["MetaConversions:Outbox:RedisKeyPrefix"] = $"farm-checkout:{Guid.NewGuid():N}",
            }),
            new("library, redis outbox, follow-up index on", "/checkout", 1, turns, new()
            {
                ["MetaConversions:Outbox:Provider"] = "redis",
                ["MetaConversions:Outbox:Redis"] = redis.ConnectionString,
                ["MetaConversions:Outbox:RedisKeyPrefix"] = $"farm-checkout:{Guid.NewGuid():N}",
                ["MetaConversions:FollowUps:Events:0"] = "Purchase", // every Purchase remembered: two more writes, after the request
            }),
        ];
        try
        {
            foreach (var app in apps)
            {
                await app.StartAsync(graph.BaseUrl.GetLeftPart(UriPartial.Authority));
                await app.RunRoundAsync(warmUp, record: false);
            }

            var warm = smoke ? new CheckoutLatency.JitWarmUp(0, false) : await CheckoutLatency.WarmUntilJitQuietAsync(apps);
            var load = HarnessCommand.LoadAverage();
            await CheckoutLatency.RunTurnsAsync(apps, turns, record: true);

            Console.WriteLine();
            CheckoutLatency.PrintTable(apps);

            Console.WriteLine();
            Console.WriteLine($"{warm.Describe(smoke)}. Load average as the recorded turns began: {load}.");
            var memory = apps[0].Sorted();
            foreach (var app in apps.Skip(1))
            {
                var stored = app.Sorted();
                var added50 = HarnessCommand.Percentile(stored, 50) - HarnessCommand.Percentile(memory, 50);
                var added99 = HarnessCommand.Percentile(stored, 99) - HarnessCommand.Percentile(memory, 99);
                var name = app == apps[1] ? "the redis outbox" : "the redis outbox with the follow-up index on";
                Console.WriteLine($"{HarnessCommand.ResultPrefix} farm checkout: {name} adds {added50:0.00} ms at p50, {added99:0.00} ms at p99 " +
                    $"against the memory outbox ({(app == apps[1] ? $"target <=1 ms {(added99 <= 1 ? "met" : "NOT met")}" : "no target")}); load average {load}");
            }

            Console.WriteLine();
            return true;
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }
        }
    }

    private static async Task<bool> RunFarmAsync(RedisProcess redis, FarmShape shape, bool smoke)
    {
        var nodeCount = shape.Nodes;
        var perPass = smoke ? 2_000 : 200_000;
        var burst = !shape.Kill ? 0 : smoke ? 2_000 : 100_000;
        var lease = TimeSpan.FromSeconds(smoke ? 1 : 2);
        var maxPasses = smoke ? 2 : MaxPasses;
        var capacity = (perPass * maxPasses) + burst;
        var tokens = Enumerable.Range(1, nodeCount).Select(i => $"farm-node-{i}").ToArray();
        var tally = new EventTally(capacity, tokens);
        var prefix = $"farm:{Guid.NewGuid():N}";
        Console.WriteLine($"## A web farm of {nodeCount} node processes on one redis-server{(shape.FollowUps ? ", the follow-up index on" : string.Empty)}: " +
            $"passes of {perPass:N0} events ({ProducersPerNode} concurrent callers per node), enqueue to acknowledged by one loopback Graph, batches of 1,000" +
            (shape.Kill ? $"; then a burst of {burst:N0} with node 1 killed (SIGKILL) halfway through its share" : string.Empty) +
            $"; Outbox:LeaseTimeout {lease.TotalSeconds:0} s, EnqueueBudget 10 s{(shape.FollowUps ? ", FollowUps:Events Purchase" : string.Empty)}");

        var marksPath = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"capi-farm-{Guid.NewGuid():N}.marks");
        await using (var create = new FileStream(marksPath, FileMode.CreateNew))
        {
            create.SetLength(3L * capacity);
        }

        var nodes = new List<Node>();
        try
        {
            using var marksFile = MemoryMappedFile.CreateFromFile(marksPath, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
            using var marks = marksFile.CreateViewAccessor(0, 3L * capacity);
            var ledger = new Ledger(tally, marks, capacity);
            await using var graph = await FakeGraphApiServer.StartAsync(new FakeGraphApiOptions { CountOnly = true, Tally = tally });
            await using var backlog = Backlog(redis, prefix, lease);
            var admin = ConfigurationOptions.Parse(redis.ConnectionString);
            admin.AllowAdmin = true; // FLUSHALL, CONFIG RESETSTAT
            using var connection = await ConnectionMultiplexer.ConnectAsync(admin);
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            await server.FlushAllDatabasesAsync(); // what the checkouts or the farm before left
            foreach (var token in tokens)
            {
                nodes.Add(Node.Start(token,
                    "--redis", redis.ConnectionString, "--prefix", prefix, "--graph", graph.BaseUrl.ToString(), "--token", token,
                    "--marks", marksPath, "--capacity", capacity.ToString(CultureInfo.InvariantCulture),
                    "--producers", ProducersPerNode.ToString(CultureInfo.InvariantCulture),
                    "--lease-ms", lease.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
                    "--follow-ups", shape.FollowUps ? "on" : "off"));
            }

            await Task.WhenAll(nodes.Select(n => n.ExpectAsync("ready", TimeSpan.FromMinutes(1))));

            var passes = new List<Pass>();
            long next = 0;
            do
            {
                passes.Add(await PassAsync(nodes, graph, backlog, ledger, redis, server, next, perPass));
                next += perPass;
            }
            while (passes.Count < 2 || (passes.Count < maxPasses && !Settled(passes[^2], passes[^1])));

            var once = ledger.Check(0, next, killedSenderBit: 0);
            var claimedBeforeKill = (await Task.WhenAll(nodes.Select(n => n.StatsAsync()))).Sum(s => s.Claimed);
            Killing? killing = null;
            if (shape.Kill)
            {
                var kill = await KillAsync(nodes, graph, backlog, ledger, connection.GetDatabase(), prefix, next, burst, lease);
                var survivors = await Task.WhenAll(nodes.Skip(1).Select(n => n.StatsAsync()));
                killing = new Killing(kill, ledger.Check(next, next + burst, killedSenderBit: 1), survivors.Sum(s => s.Claimed) - claimedBeforeKill, survivors.Sum(s => s.Retried));
            }

            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            // What the farm left in Redis; then it goes, not to weigh on the machine.
            var memory = (await server.InfoAsync("memory")).SelectMany(g => g).First(kv => kv.Key == "used_memory").Value;
            await server.FlushAllDatabasesAsync();
            return Report(shape, passes, once, claimedBeforeKill, killing, lease, long.Parse(memory, CultureInfo.InvariantCulture), next + burst);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            File.Delete(marksPath);
        }
    }

    /// <summary>A reader of the farm's store, to count what it still holds; it never leases, so it is no consumer.</summary>
    private static RedisOutboxStore Backlog(RedisProcess redis, string prefix, TimeSpan lease)
    {
        var metrics = new ConversionMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var stale = new StaleEntries(TimeProvider.System, metrics, NullLogger<StaleEntries>.Instance);
        return RedisOutboxStore.Connect(redis.ConnectionString, prefix, lease, TimeProvider.System, stale, NullLogger.Instance);
    }

    private static bool Settled(Pass before, Pass last) => Math.Abs(last.Rate - before.Rate) <= 0.05 * before.Rate;

    /// <summary>Events <paramref name="from"/> onwards, shared out between the nodes, until Graph has them all and the store is empty.</summary>
    private static async Task<Pass> PassAsync(
        List<Node> nodes, FakeGraphApiServer graph, IOutboxStore backlog, Ledger ledger, RedisProcess redis, IServer server, long from, int count)
    {
        await server.ConfigResetStatisticsAsync();
        var received = graph.EventsReceived;
        var cpu = CpuTimes.Take(nodes, redis);
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(nodes.Select((node, i) => node.ProduceAsync(Share(from, count, nodes.Count, i))));
        var enqueued = Stopwatch.GetTimestamp();
        var deadline = Stopwatch.StartNew();
        while (graph.EventsReceived - received < count || await backlog.CountAsync(CancellationToken.None) > 0 || ledger.Distinct(from, from + count) < count)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                Console.WriteLine($"Pass from event {from}: not every event reached Graph within two minutes of the last enqueue.");
                break;
            }

            await Task.Delay(5);
        }

        var end = Stopwatch.GetTimestamp();
        var used = CpuTimes.Take(nodes, redis) - cpu;
        return new Pass(count, HarnessCommand.Milliseconds(start, enqueued) / 1000, HarnessCommand.Milliseconds(start, end) / 1000, used, await CommandsAsync(server));
    }

    /// <summary>What redis-server did since its statistics were reset: calls and time by command (INFO commandstats).</summary>
    private static async Task<RedisCommand[]> CommandsAsync(IServer server)
    {
        var stats = await server.InfoAsync("commandstats");
        return stats.SelectMany(group => group)
            .Where(kv => kv.Key.StartsWith("cmdstat_", StringComparison.Ordinal))
            .Select(kv =>
            {
                var fields = kv.Value.Split(',').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
                return new RedisCommand(kv.Key["cmdstat_".Length..], long.Parse(fields["calls"], CultureInfo.InvariantCulture), long.Parse(fields["usec"], CultureInfo.InvariantCulture));
            })
            .OrderByDescending(c => c.Microseconds)
            .ToArray();
    }

    private static (long From, long To) Share(long from, int count, int nodes, int node) =>
        (from + ((long)count * node / nodes), from + ((long)count * (node + 1) / nodes));

    /// <summary>
    /// A burst shared out between the nodes; node 1 is killed with SIGKILL once it has acknowledged half its share, and
    /// the others finish theirs. Then: wait until every acknowledged event has reached Graph and the store is empty.
    /// </summary>
    private static async Task<Kill> KillAsync(
        List<Node> nodes, FakeGraphApiServer graph, IOutboxStore backlog, Ledger ledger, IDatabase redis, string prefix, long from, int count, TimeSpan lease)
    {
        var shares = Enumerable.Range(0, nodes.Count).Select(i => Share(from, count, nodes.Count, i)).ToArray();
        var producing = nodes.Select((node, i) => node.ProduceAsync(shares[i])).ToArray();
        var doomed = shares[0];
        while (ledger.Acknowledged(doomed.From, doomed.To) < (doomed.To - doomed.From) / 2 && !producing[0].IsCompleted)
        {
            await Task.Delay(1);
        }

        // Then at a moment when it holds leased entries, so that the others must take them over after the lease time-out:
        // stopped (SIGSTOP) so that it acknowledges nothing more while the harness looks, killed if it holds some,
        // let go on (SIGCONT) if not.
        long held;
        while (true)
        {
            nodes[0].Signal(Node.Stop);
            held = await HeldByAsync(redis, prefix, nodes[0]);
            if (held > 0 || producing[0].IsCompleted)
            {
                break;
            }

            nodes[0].Signal(Node.Continue);
            await Task.Delay(1);
        }

        var midBurst = !producing[0].IsCompleted;
        nodes[0].Kill();
        var killed = Stopwatch.StartNew();
        try
        {
            await producing[0];
        }
        catch (InvalidOperationException)
        {
            // Its process is gone: it never answers "produced".
        }

        await Task.WhenAll(producing.Skip(1));
        var acknowledgedAtKill = ledger.Acknowledged(doomed.From, doomed.To);
        var waitAtMost = lease + TimeSpan.FromMinutes(1);
        while (killed.Elapsed < waitAtMost &&
            (ledger.Missing(from, from + count) > 0 || await backlog.CountAsync(CancellationToken.None) > 0))
        {
            await Task.Delay(20);
        }

        return new Kill(midBurst, doomed.To - doomed.From, acknowledgedAtKill, held, killed.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The entries the group has given <paramref name="node"/> and it has not acknowledged (XPENDING): its leases. The
    /// store's keys and group, and its consumer names (machine:process:…), as RedisOutboxStore writes them.
    /// </summary>
    private static async Task<long> HeldByAsync(IDatabase redis, string prefix, Node node)
    {
        var pending = await redis.StreamPendingAsync($"{{{prefix}}}:stream", "senders");
        var consumer = $"{Environment.MachineName}:{node.ProcessId}:";
        return pending.Consumers?.Where(c => c.Name.ToString().StartsWith(consumer, StringComparison.Ordinal)).Sum(c => (long)c.PendingMessageCount) ?? 0;
    }

    private static bool Report(FarmShape shape, List<Pass> passes, Once once, long claimedBeforeKill, Killing? killing, TimeSpan lease, long redisBytes, long events)
    {
        var nodeCount = shape.Nodes;
        var farm = shape.FollowUps ? $"nodes={nodeCount} follow-ups=on" : $"nodes={nodeCount}";
        Console.WriteLine();
        Console.WriteLine("| Nodes | Pass | Events | Enqueued in (s) | Acknowledged in (s) | Events/s, enqueue to ack | CPU (s): nodes / redis-server / Graph and harness | Events per CPU-second | The machine's cores busy (average, all processes) |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---|---:|---:|");
        var last = passes[^1];
        var settled = passes.Count >= 2 && Settled(passes[^2], last);
        foreach (var (name, pass) in new[] { ("1 (the JIT tiering up)", passes[0]), ($"{passes.Count} ({(settled ? "settled" : "not settled")})", last) })
        {
            Console.WriteLine($"| {nodeCount} | {name} | {pass.Events:N0} | {pass.EnqueueSeconds:0.00} | {pass.TotalSeconds:0.00} | **{pass.Rate:N0}** | " +
                $"{pass.Cpu.Nodes:0.00} / {pass.Cpu.Redis:0.00} / {pass.Cpu.Harness:0.00} | {pass.Events / pass.Cpu.Total:N0} | {pass.Cpu.MachineBusy / pass.TotalSeconds:0.00} of {Environment.ProcessorCount} |");
        }

        Console.WriteLine();
        Console.WriteLine($"redis-server in pass {passes.Count}, by command (INFO commandstats; a script's time includes the commands it runs, which are counted again under their own names):");
        Console.WriteLine();
        Console.WriteLine("| Command | Calls | Calls per event | Time (s) | µs per event |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var command in last.Commands.Take(8))
        {
            Console.WriteLine($"| {command.Name} | {command.Calls:N0} | {(double)command.Calls / last.Events:0.000} | {command.Microseconds / 1e6:0.00} | {(double)command.Microseconds / last.Events:0.0} |");
        }

        Console.WriteLine();
        Console.WriteLine($"Passes, events/s: {string.Join("; ", passes.Select(p => p.Rate.ToString("N0", CultureInfo.InvariantCulture)))}.");
        Console.WriteLine($"Redis's data after the farm (INFO memory, used_memory), the stream empty: {redisBytes / 1048576.0:N0} MB, {(double)redisBytes / events:N0} bytes per event of the farm" +
            (shape.FollowUps ? "; every Purchase stays remembered (by event ID and by order ID) for FollowUps:Window (7 days) and a day." : "."));
        Console.WriteLine();
        Console.WriteLine("| Nodes | Events | Acknowledged to callers | Delivered (distinct) | Lost | Duplicates: killed node's sends taken over | other expired leases | unexplained | Entries claimed after a lease | Writes past the budget / to the fallback |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| {nodeCount} | the passes, {once.Events:N0} | {once.Acknowledged:N0} | {once.Delivered:N0} | **{once.Lost:N0}** | - | {once.OtherLease:N0} | **{once.Unexplained:N0}** | {claimedBeforeKill:N0} | {once.Late:N0} / {once.FellBack:N0} |");
        if (killing is { Kill: var kill, Once: var afterKill })
        {
            Console.WriteLine($"| {nodeCount} | the burst, {afterKill.Events:N0}, node 1 killed | {afterKill.Acknowledged:N0} | {afterKill.Delivered:N0} | **{afterKill.Lost:N0}** | {afterKill.KilledNodeLease:N0} | {afterKill.OtherLease:N0} | **{afterKill.Unexplained:N0}** | {killing.Claimed:N0} | {afterKill.Late:N0} / {afterKill.FellBack:N0} |");
            Console.WriteLine();
            Console.WriteLine($"Node 1 was killed {(kill.MidBurst ? "mid-burst" : "AFTER its share (the burst ended first)")}, having acknowledged {kill.AcknowledgedAtKill:N0} of its {kill.Share:N0} events and holding the leases of {kill.Held:N0} entries as it died; " +
                $"the others had them all in Graph {kill.Seconds:0.0} s after the kill (LeaseTimeout {lease.TotalSeconds:0} s). " +
                $"Sent though never acknowledged (enqueues cut short by the kill): {afterKill.SentUnacknowledged:N0}. Events sent again after a failure, by the survivors: {killing.Retried:N0}.");
        }

        var rate = last.Rate;
        var perCpu = last.Events / last.Cpu.Total;
        var target = nodeCount == 2 && !shape.FollowUps ? $"target>=50,000 {(rate >= TargetEventsPerSecond ? "met" : "NOT met")}" : "no target";
        Console.WriteLine($"{HarnessCommand.ResultPrefix} farm {farm} throughput={rate:N0} events/s enqueue to acknowledged (pass {passes.Count}, {(settled ? "settled" : "not settled")}) {target}; " +
            $"{perCpu:N0} events per CPU-second (nodes {last.Cpu.Nodes:0.0} s, redis-server {last.Cpu.Redis:0.0} s, Graph and harness {last.Cpu.Harness:0.0} s in {last.TotalSeconds:0.0} s), " +
            $"so at most {perCpu * Environment.ProcessorCount:N0} events/s on {Environment.ProcessorCount} idle cores; the machine's cores busy {last.Cpu.MachineBusy / last.TotalSeconds:0.00} of {Environment.ProcessorCount}; " +
            $"load average {HarnessCommand.LoadAverage()}");
        var onceOk = once.Lost == 0 && once.Unexplained == 0 && once.Acknowledged == once.Events;
        Console.WriteLine($"{HarnessCommand.ResultPrefix} farm {farm} once: events={once.Events} delivered={once.Delivered} lost={once.Lost} duplicates={once.Duplicates} " +
            $"(lease expired: {once.OtherLease}, unexplained: {once.Unexplained}; entries claimed after a lease: {claimedBeforeKill}) {(onceOk ? "passed" : "FAILED")}");
        var killOk = true;
        if (killing is { Kill: var k, Once: var burst })
        {
            killOk = burst.Lost == 0 && burst.Unexplained == 0;
            if (k.Held == 0)
            {
                Console.WriteLine("Node 1 held no leases when it died (its share was done first): the takeover after a lease time-out was not exercised.");
            }

            Console.WriteLine($"{HarnessCommand.ResultPrefix} farm {farm} kill: node 1 acknowledged {k.AcknowledgedAtKill} and held {k.Held} leased before SIGKILL{(k.MidBurst ? string.Empty : " (not mid-burst)")}; " +
                $"burst acknowledged={burst.Acknowledged} delivered={burst.Delivered} lost={burst.Lost} (of them past the budget or in the fallback: {burst.LostHandedOver}) " +
                $"duplicates={burst.Duplicates} (the killed node's sends taken over after its lease: {burst.KilledNodeLease}, other expired leases: {burst.OtherLease}, " +
                $"unexplained: {burst.Unexplained}; entries claimed after a lease: {killing.Claimed}) all in Graph {k.Seconds:0.0} s after the kill {(killOk ? "passed" : "FAILED")}");
        }

        Console.WriteLine();
        return onceOk && killOk;
    }

    /// <summary>A farm of the run: how many nodes, whether they remember purchases for follow-ups, whether one is killed.</summary>
    private sealed record FarmShape(int Nodes, bool FollowUps, bool Kill);

    private sealed record Killing(Kill Kill, Once Once, long Claimed, long Retried);

    private sealed record RedisCommand(string Name, long Calls, long Microseconds);

    private sealed record Pass(int Events, double EnqueueSeconds, double TotalSeconds, CpuTimes Cpu, RedisCommand[] Commands)
    {
        public double Rate => Events / TotalSeconds;
    }

    private sealed record Kill(bool MidBurst, long Share, long AcknowledgedAtKill, long Held, double Seconds);

    /// <summary>What happened to a range of events, from the nodes' marks and Graph's tally.</summary>
    private sealed record Once(
        long Events, long Acknowledged, long Delivered, long Lost, long LostHandedOver, long SentUnacknowledged, long Duplicates,
        long KilledNodeLease, long OtherLease, long Unexplained, long Late, long FellBack);

    /// <summary>The nodes' marks (what each caller was told: <see cref="FarmNode"/>) beside Graph's tally.</summary>
    private sealed class Ledger(EventTally tally, MemoryMappedViewAccessor marks, long capacity)
    {
        public long Acknowledged(long from, long to) => Read(0, from, to).AsSpan().Count((byte)1);

        /// <summary>Events in Graph at least once.</summary>
        public long Distinct(long from, long to)
        {
            long distinct = 0;
            for (var n = from; n < to; n++)
            {
                distinct += tally.TimesOf(n) > 0 ? 1 : 0;
            }

            return distinct;
        }

        /// <summary>Events acknowledged to their callers and not yet in Graph.</summary>
        public long Missing(long from, long to)
        {
            var acknowledged = Read(0, from, to);
            long missing = 0;
            for (var n = from; n < to; n++)
            {
                missing += acknowledged[n - from] != 0 && tally.TimesOf(n) == 0 ? 1 : 0;
            }

            return missing;
        }

        /// <summary>
        /// Every event of the range: lost when acknowledged and never in Graph; a copy beyond the first is a lease that
        /// expired when another node sent it (the killed node's, <paramref name="killedSenderBit"/>, or a live one's),
        /// unexplained when the same node sent it again.
        /// </summary>
        public Once Check(long from, long to, int killedSenderBit)
        {
            var acknowledged = Read(0, from, to);
            var late = Read(capacity, from, to);
            var fellBack = Read(2 * capacity, from, to);
            long acked = 0, delivered = 0, lost = 0, lostHandedOver = 0, unacknowledgedSent = 0, duplicates = 0, killedLease = 0, otherLease = 0, unexplained = 0;
            for (var n = from; n < to; n++)
            {
                var i = n - from;
                var times = tally.TimesOf(n);
                var sentBy = tally.SentBy(n);
                acked += acknowledged[i];
                delivered += times > 0 ? 1 : 0;
                if (acknowledged[i] != 0 && times == 0)
                {
                    lost++;
                    lostHandedOver += late[i] != 0 || fellBack[i] != 0 ? 1 : 0;
                }

                unacknowledgedSent += acknowledged[i] == 0 && times > 0 ? 1 : 0;
                if (times > 1)
                {
                    var senders = BitOperations.PopCount((uint)sentBy);
                    duplicates += times - 1;
                    unexplained += times - Math.Max(senders, 1);
                    var byOthers = Math.Max(senders - 1, 0);
                    if ((sentBy & killedSenderBit) != 0)
                    {
                        killedLease += byOthers;
                    }
                    else
                    {
                        otherLease += byOthers;
                    }
                }
            }

            return new Once(to - from, acked, delivered, lost, lostHandedOver, unacknowledgedSent, duplicates, killedLease, otherLease, unexplained,
                late.AsSpan().Count((byte)1), fellBack.AsSpan().Count((byte)1));
        }

        private byte[] Read(long region, long from, long to)
        {
            var bytes = new byte[to - from];
            marks.ReadArray(region + from, bytes, 0, bytes.Length);
            return bytes;
        }
    }

    /// <summary>CPU time of the nodes, redis-server and this process (the fake Graph, the shop, the polling), and of the whole machine.</summary>
    private sealed record CpuTimes(double Nodes, double Redis, double Harness, double MachineBusy)
    {
        public double Total => Nodes + Redis + Harness;

        public static CpuTimes Take(List<Node> nodes, RedisProcess redis)
        {
            using var self = Process.GetCurrentProcess();
            return new CpuTimes(nodes.Sum(n => n.CpuTime().TotalSeconds), redis.CpuTime().TotalSeconds, self.TotalProcessorTime.TotalSeconds, MachineBusySeconds());
        }

        public static CpuTimes operator -(CpuTimes a, CpuTimes b) =>
            new(a.Nodes - b.Nodes, a.Redis - b.Redis, a.Harness - b.Harness, a.MachineBusy - b.MachineBusy);

        /// <summary>All cores' busy time since boot (/proc/stat, in USER_HZ ticks of 1/100 s): the other agents' too.</summary>
        private static double MachineBusySeconds()
        {
            try
            {
                var ticks = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                    .Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
                return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]) / 100.0;
            }
            catch (IOException)
            {
                return double.NaN;
            }
        }
    }

    /// <summary>A <see cref="FarmNode"/> process: commands to its standard input, answers from its standard output.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private TimeSpan _cpu;
        private int _disposed;

        private Node(Process process, string token)
        {
            _process = process;
            Token = token;
        }

        public string Token { get; }

        public int ProcessId => _process.Id;

        public static Node Start(string token, params string[] args)
        {
            var start = HarnessCommand.OwnProcess([FarmNode.Mode, .. args]);
            start.RedirectStandardInput = true;
            start.RedirectStandardOutput = true; // standard error is the harness's: a node that fails says why there
            var process = Process.Start(start)!;
            var node = new Node(process, token);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    node._lines.Writer.TryComplete();
                }
                else
                {
                    node._lines.Writer.TryWrite(e.Data);
                }
            };
            process.BeginOutputReadLine();
            return node;
        }

        public TimeSpan CpuTime()
        {
            try
            {
                _process.Refresh();
                return _cpu = _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return _cpu; // it has exited
            }
        }

        public async Task<string> ExpectAsync(string answer, TimeSpan timeout)
        {
            using var timer = new CancellationTokenSource(timeout);
            while (true)
            {
                string line;
                try
                {
                    line = await _lines.Reader.ReadAsync(timer.Token);
                }
                catch (ChannelClosedException)
                {
                    throw new InvalidOperationException($"Farm node {Token} ended before answering '{answer}'.");
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"Farm node {Token} did not answer '{answer}' within {timeout.TotalSeconds:0} s.");
                }

                if (line == answer || line.StartsWith(answer + " ", StringComparison.Ordinal))
                {
                    return line;
                }

                Console.Error.WriteLine($"{Token}: {line}");
            }
        }

        public async Task ProduceAsync((long From, long To) share)
        {
            await SendAsync($"produce {share.From} {share.To}");
            await ExpectAsync("produced", TimeSpan.FromMinutes(5));
        }

        public async Task<(long Claimed, long Retried)> StatsAsync()
        {
            await SendAsync("stats");
            var words = (await ExpectAsync("stats", TimeSpan.FromMinutes(1))).Split(' ');
            return (long.Parse(words[1], CultureInfo.InvariantCulture), long.Parse(words[2], CultureInfo.InvariantCulture));
        }

        public const int Continue = 18; // SIGCONT on Linux

        public const int Stop = 19; // SIGSTOP on Linux

        public void Signal(int signal)
        {
            if (SendSignal(_process.Id, signal) != 0)
            {
                throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
            }
        }

        /// <summary>SIGKILL (what <see cref="Process.Kill()"/> sends on Linux): no shutdown, leases left as they are.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            if (!_process.HasExited)
            {
                try
                {
                    await SendAsync("quit");
                    _process.StandardInput.Close();
                    await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (Exception ex) when (ex is IOException or TimeoutException)
                {
                    _process.Kill();
                }
            }

            _process.Dispose();
        }

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int SendSignal(int pid, int signal);

        private async Task SendAsync(string command)
        {
            await _process.StandardInput.WriteLineAsync(command);
            await _process.StandardInput.FlushAsync();
        }
    }
}
