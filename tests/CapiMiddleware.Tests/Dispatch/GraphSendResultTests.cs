using System.Net;
using CapiMiddleware.Dispatch;

namespace CapiMiddleware.Tests.Dispatch;

/// <summary>Meta's error reference, as the sender reads it.</summary>
public sealed class GraphSendResultTests
{
    [Theory]
    [InlineData(500, null, false, "Transient")]
    [InlineData(503, null, false, "Transient")]
    [InlineData(429, null, false, "Transient")]
    [InlineData(400, 1, false, "Transient")]
    [InlineData(400, 2, false, "Transient")]
    [InlineData(400, 4, false, "Transient")]
    [InlineData(400, 17, false, "Transient")]
    [InlineData(400, 32, false, "Transient")]
    [InlineData(400, 341, false, "Transient")]
    [InlineData(400, 613, false, "Transient")]
    [InlineData(400, 12345, true, "Transient")]
    [InlineData(400, 100, false, "InvalidEvents")]
    [InlineData(400, 190, false, "TokenRejected")]
    [InlineData(403, 10, false, "PermissionDenied")]
    [InlineData(403, 200, false, "PermissionDenied")]
    [InlineData(403, 299, false, "PermissionDenied")]
    [InlineData(400, 803, false, "Rejected")]
    [InlineData(400, null, false, "Rejected")]
    public void Each_answer_is_handled_on_purpose(int status, int? code, bool isTransient, string expected)
    {
        var error = code is null ? null : new GraphError { Code = code, IsTransient = isTransient, Message = "m", FbTraceId = "t" };
        Assert.Equal(expected, GraphSendResult.FromError((HttpStatusCode)status, error, null, null).Outcome.ToString());
    }

    [Fact]
    public void Throttling_asks_for_harder_back_off()
    {
        Assert.True(GraphSendResult.FromError(HttpStatusCode.BadRequest, new GraphError { Code = 613 }, null, null).IsThrottled);
        Assert.False(GraphSendResult.FromError(HttpStatusCode.BadRequest, new GraphError { Code = 2 }, null, null).IsThrottled);
    }

    [Fact]
    public void The_description_names_message_code_subcode_and_trace()
    {
        var result = GraphSendResult.FromError(HttpStatusCode.BadRequest,
            new GraphError { Code = 100, Subcode = 2804001, Message = "Invalid parameter", FbTraceId = "AbCd" }, null, null);
        Assert.Equal("HTTP 400: Invalid parameter (code 100, subcode 2804001, fbtrace_id AbCd)", result.Describe());
    }
}
