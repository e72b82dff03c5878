using System.Diagnostics;
using System.Text;
using CapiMiddleware.Tests.Crash;
using CapiMiddleware.FakeGraph;

namespace CapiMiddleware.Tests.Sample;

/// <summary>
/// The offline-import worker (samples/OfflineImport) run as its own process, as <c>dotnet run</c> would, against the
/// fake Graph API: the good rows of its CSV arrive hashed with their action source, the bad ones are reported and
/// skipped, and it exits once the queue has drained.
/// </summary>
public sealed class OfflineImportSampleTests
{
    [Fact]
    public async Task The_shipped_csv_arrives_hashed_with_its_action_sources_and_bad_rows_are_reported_and_skipped()
    {
        await using var graph = await FakeGraphApiServer.StartAsync();
        var started = DateTimeOffset.UtcNow;

        var (exitCode, output) = await RunAsync(SendingTo(graph));

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}");

        // Sent before the process exited: the drain at shutdown, not a later retry.
        var events = graph.AcceptedEvents.ToDictionary(e => e.GetProperty("event_id").GetString()!);
        Assert.Equal(
            ["1234567890123456:Disqualified", "1234567890123456:Lead", "123456789012345:Converted", "123456789012345:Lead", "123456789012345:Qualified",
             "P-2001", "R-4001", "S-1001", "S-1002"],
            events.Keys.Order(StringComparer.Ordinal));

        var store = events["S-1001"];
        Assert.Equal(("Purchase", "physical_store"), (store.GetProperty("event_name").GetString(), store.GetProperty("action_source").GetString()));
        Assert.Equal(MinimalApiSampleTests.Sha256("alice.shopper@example.com"), store.GetProperty("user_data").GetProperty("em")[0].GetString());
        Assert.Equal(MinimalApiSampleTests.Sha256("15550102001"), store.GetProperty("user_data").GetProperty("ph")[0].GetString());
        Assert.False(store.TryGetProperty("event_source_url", out _));
        Assert.Equal(59.90m, store.GetProperty("custom_data").GetProperty("value").GetDecimal());
        Assert.Equal("S-1001", store.GetProperty("custom_data").GetProperty("order_id").GetString());
        Assert.InRange(store.GetProperty("event_time").GetInt64(), started.AddHours(-2).AddMinutes(-1).ToUnixTimeSeconds(), started.AddHours(-2).AddMinutes(5).ToUnixTimeSeconds());

        // 40 days old: too old for a phone order, accepted for a store sale.
        Assert.Equal("physical_store", events["S-1002"].GetProperty("action_source").GetString());
        Assert.Equal(("phone_call", "GBP"), (events["P-2001"].GetProperty("action_source").GetString(), events["P-2001"].GetProperty("custom_data").GetProperty("currency").GetString()));
        Assert.Equal(MinimalApiSampleTests.Sha256("442079460958"), events["P-2001"].GetProperty("user_data").GetProperty("ph")[0].GetString());
        Assert.Equal("system_generated", events["R-4001"].GetProperty("action_source").GetString());

        Assert.Contains("Line 6 skipped: order P-2002 was not queued", output, StringComparison.Ordinal);
        Assert.Contains("older than Meta accepts (7 days)", output, StringComparison.Ordinal);
        Assert.Contains("Line 7 skipped: the value 'twelve'", output, StringComparison.Ordinal);
        Assert.Contains("Line 8 skipped: the action source 'telepathy'", output, StringComparison.Ordinal);
        Assert.Contains("Line 9 skipped: order X-3003 was not queued", output, StringComparison.Ordinal);
        Assert.Contains("Queued 4 offline orders", output, StringComparison.Ordinal);
        Assert.Contains("skipped 4", output, StringComparison.Ordinal);
        Assert.DoesNotContain("example.com", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_crm_stage_changes_arrive_as_conversion_leads_events_and_bad_rows_are_reported_and_skipped()
    {
        await using var graph = await FakeGraphApiServer.StartAsync();
        var started = DateTimeOffset.UtcNow;

        var (exitCode, output) = await RunAsync(SendingTo(graph, ("OfflineImport__CrmName", "HubSpot")));

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}");
        var stages = graph.AcceptedEvents.Where(e => e.GetProperty("event_id").GetString()!.Contains(':', StringComparison.Ordinal))
            .ToDictionary(e => e.GetProperty("event_id").GetString()!);
        Assert.Equal(5, stages.Count);

        // The raw lead and every later stage, each as an event named after the stage.
        var converted = stages["123456789012345:Converted"];
        Assert.Equal(("Converted", "system_generated"), (converted.GetProperty("event_name").GetString(), converted.GetProperty("action_source").GetString()));
        Assert.Equal("123456789012345", converted.GetProperty("user_data").GetProperty("lead_id").GetString()); // never hashed
        Assert.Single(converted.GetProperty("user_data").EnumerateObject()); // the lead ID alone is enough
        Assert.Equal("crm", converted.GetProperty("custom_data").GetProperty("event_source").GetString());
        Assert.Equal("HubSpot", converted.GetProperty("custom_data").GetProperty("lead_event_source").GetString());
        Assert.InRange(converted.GetProperty("event_time").GetInt64(), started.AddHours(-2).AddMinutes(-1).ToUnixTimeSeconds(), started.AddHours(-2).AddMinutes(5).ToUnixTimeSeconds());

        var lead = stages["123456789012345:Lead"];
        Assert.Equal(MinimalApiSampleTests.Sha256("ana.lead@example.com"), lead.GetProperty("user_data").GetProperty("em")[0].GetString());
        Assert.Equal(MinimalApiSampleTests.Sha256("15550103003"), stages["1234567890123456:Lead"].GetProperty("user_data").GetProperty("ph")[0].GetString());

        Assert.Contains("Line 7 skipped: the lead ID '98765' is not the 15 to 17 digits", output, StringComparison.Ordinal);
        Assert.Contains("Line 8 skipped: Renewal of lead 123456789012345 was not queued", output, StringComparison.Ordinal);
        Assert.Contains("Queued 5 CRM stage changes", output, StringComparison.Ordinal);
        Assert.DoesNotContain("example.com", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Without_a_token_it_shows_the_batch_sends_nothing_and_exits()
    {
        await using var graph = await FakeGraphApiServer.StartAsync();

        var (exitCode, output) = await RunAsync(new Dictionary<string, string>());

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}");
        // The 4 good orders and the 5 good CRM stage changes, in one batch or more.
        var shown = System.Text.RegularExpressions.Regex.Matches(output, @"Not sending (\d+) events \(no MetaConversions:AccessToken set\)")
            .Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(9, shown);
        Assert.Contains("\"action_source\":\"physical_store\"", output, StringComparison.Ordinal);
        Assert.Empty(graph.Requests);
    }

    /// <summary>The worker's settings to send to <paramref name="graph"/>, and any more.</summary>
    private static Dictionary<string, string> SendingTo(FakeGraphApiServer graph, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string>
        {
            ["MetaConversions__PixelId"] = "1234567890",
            ["MetaConversions__AccessToken"] = graph.Options.ExpectedAccessToken,
            ["MetaConversions__GraphApiBaseUrl"] = graph.BaseUrl.ToString(),
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [WorkerDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(), // the worker finds its CSV and settings beside itself, wherever it is started
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The worker did not exit within 90 seconds:\n{output}");
        }

        process.WaitForExit(); // the end of the redirected output
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static string WorkerDll => SampleProcess.SampleDll("OfflineImport");
}
