using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CapiMiddleware.FakeGraph;

namespace CapiMiddleware.Tests.FakeGraphApi;

/// <summary>The fake Graph's <c>GET /{version}/dataset_quality</c>: Meta's answer shape, only the fields asked, Graph's refusals.</summary>
public sealed class FakeDatasetQualityTests
{
    private const string Dataset = "1234567890";

    [Fact]
    public async Task It_answers_the_dataset_s_rows_with_only_the_fields_asked()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        server.SetDatasetQuality(Dataset, DatasetQualityExamples.EveryField);

        var (status, body) = await GetAsync(server, $"?dataset_id={Dataset}&fields=" + Uri.EscapeDataString("web{event_coverage{percentage,goal_percentage,description},event_name}"));

        Assert.Equal(HttpStatusCode.OK, status);
        var rows = JsonDocument.Parse(body).RootElement.GetProperty("web").EnumerateArray().ToArray();
        Assert.Equal(3, rows.Length);
        Assert.Equal(["event_name", "event_coverage"], rows[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(34.1, rows[0].GetProperty("event_coverage").GetProperty("percentage").GetDouble());
        Assert.Equal(["event_name"], rows[2].EnumerateObject().Select(p => p.Name)); // PageView has no coverage

        var (_, other) = await GetAsync(server, "?dataset_id=999&fields=web{event_name}");
        Assert.Equal("{\"web\":[]}", other);
    }

    [Theory]
    [InlineData("?fields=web{event_name}", null, 100, "dataset_id is required")]
    [InlineData("?dataset_id=abc&fields=web{event_name}", null, 100, "does not exist")]
    [InlineData("?dataset_id=1234567890", null, 100, "web field is required")]
    [InlineData("?dataset_id=1234567890&fields=web{event_name}", "wrong-token", 190, "Invalid OAuth access token")]
    [InlineData("?dataset_id=1234567890&fields=web{event_name}&access_token=test-token", "", 100, "must not be sent in the URL")]
    public async Task It_refuses_what_Graph_refuses(string query, string? token, int code, string message)
    {
        await using var server = await FakeGraphApiServer.StartAsync();

        var (status, body) = await GetAsync(server, query, token);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scripted_answers_for_Dataset_Quality_leave_the_events_endpoint_alone()
    {
        await using var server = await FakeGraphApiServer.StartAsync();
        server.EnqueueDatasetQualityResponse(FakeResponse.GraphError(613, message: "(#613) Calls to this api have exceeded the rate limit."));

        var (status, body) = await GetAsync(server, $"?dataset_id={Dataset}&fields=web{{event_name}}");
        var (again, _) = await GetAsync(server, $"?dataset_id={Dataset}&fields=web{{event_name}}");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.OK), (status, again));
        Assert.Equal(613, JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(2, server.DatasetQualityRequests.Count);
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(FakeGraphApiServer server, string query, string? token = "test-token")
    {
        using var client = new HttpClient { BaseAddress = server.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v24.0/dataset_quality" + query);
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
