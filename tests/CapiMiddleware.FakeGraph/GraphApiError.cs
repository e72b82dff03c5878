using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CapiMiddleware.FakeGraph;

/// <summary>A Graph API error, rendered as Meta renders it: <c>{"error":{...}}</c>.</summary>
/// <param name="HttpStatus">The HTTP status it is answered with.</param>
/// <param name="Code">The Graph error <c>code</c> (100 invalid parameter, 190 bad token, 4/17/32/613 throttling...).</param>
/// <param name="Subcode">The <c>error_subcode</c>, omitted from the body when <see langword="null"/>.</param>
/// <param name="Message">The <c>message</c>.</param>
/// <param name="IsTransient">The <c>is_transient</c> flag.</param>
/// <param name="UserTitle">The <c>error_user_title</c>, omitted when <see langword="null"/>.</param>
/// <param name="UserMessage">The <c>error_user_msg</c>, omitted when <see langword="null"/>.</param>
public sealed record GraphApiError(
    int HttpStatus,
    int Code,
    int? Subcode,
    string Message,
    bool IsTransient = false,
    string? UserTitle = null,
    string? UserMessage = null)
{
    /// <summary>The <c>type</c> Meta reports for nearly every error of this API.</summary>
    public const string Type = "OAuthException";

    /// <summary>Renders the error body with the given <c>fbtrace_id</c>.</summary>
    public string ToJson(string fbtraceId)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", Message);
            writer.WriteString("type", Type);
            writer.WriteNumber("code", Code);
            if (Subcode is int subcode)
            {
                writer.WriteNumber("error_subcode", subcode);
            }

            writer.WriteBoolean("is_transient", IsTransient);
            if (UserTitle is not null)
            {
                writer.WriteString("error_user_title", UserTitle);
            }

            if (UserMessage is not null)
            {
                writer.WriteString("error_user_msg", UserMessage);
            }

            writer.WriteString("fbtrace_id", fbtraceId);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A fresh random trace id shaped like Meta's (base64url, 22 characters).</summary>
    public static string NewFbtraceId() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// The error codes and subcodes the fake answers with. Codes are Meta's; subcodes 2804001, 2804003,
/// 2804016 and 2804050 follow Meta's meaning, the others are this fake's own plausible choices.
/// </summary>
public static class GraphErrorCodes
{
    /// <summary>Invalid parameter: the request or one of its events is malformed.</summary>
    public const int InvalidParameter = 100;

    /// <summary>The access token is missing, invalid or expired.</summary>
    public const int InvalidAccessToken = 190;

    /// <summary>The path names no known node or edge.</summary>
    public const int UnknownPath = 2500;

    /// <summary>The pixel id names no object (used with <see cref="InvalidParameter"/>).</summary>
    public const int ObjectDoesNotExistSubcode = 33;

    /// <summary><c>fbc</c> is not <c>fb.N.TIMESTAMP.CLICKID[.APPENDIX]</c>.</summary>
    public const int InvalidFbcSubcode = 2804001;

    /// <summary><c>fbp</c> is not <c>fb.N.TIMESTAMP.RANDOM[.APPENDIX]</c>.</summary>
    public const int InvalidFbpSubcode = 2804002;

    /// <summary><c>event_time</c> is missing, not integer seconds, too old or in the future.</summary>
    public const int EventTimeOutOfRangeSubcode = 2804003;

    /// <summary><c>action_source</c> is missing or not one of Meta's values.</summary>
    public const int InvalidActionSourceSubcode = 2804004;

    /// <summary><c>event_name</c> is missing or empty.</summary>
    public const int InvalidEventNameSubcode = 2804005;

    /// <summary><c>event_id</c> is present but not a non-empty string.</summary>
    public const int InvalidEventIdSubcode = 2804006;

    /// <summary><c>client_ip_address</c> is not an IP address.</summary>
    public const int InvalidIpAddressSubcode = 2804007;

    /// <summary><c>user_data</c> is missing or one of its fields has the wrong shape.</summary>
    public const int InvalidUserDataSubcode = 2804008;

    /// <summary><c>custom_data</c>, <c>value</c>, <c>currency</c> or <c>contents</c> is malformed.</summary>
    public const int InvalidCustomDataSubcode = 2804009;

    /// <summary>A field that must be SHA-256 hashed (em, ph, ...) is not 64 lowercase hex characters.</summary>
    public const int NotHashedSubcode = 2804016;

    /// <summary>A <c>website</c> event lacks <c>client_user_agent</c> or <c>event_source_url</c>.</summary>
    public const int MissingWebsiteFieldsSubcode = 2804050;
}
