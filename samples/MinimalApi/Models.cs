using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MinimalApi;

/// <summary>A newsletter signup, posted as JSON by the page.</summary>
/// <param name="Email">The subscriber's email address.</param>
public sealed record Signup(string? Email);

/// <summary>A message for the shop, posted as JSON by the page.</summary>
/// <param name="Email">Where to answer.</param>
/// <param name="Text">The message.</param>
public sealed record ContactMessage(string? Email, string? Text);

/// <summary>The answer to a signup the sample accepted.</summary>
/// <param name="Subscribed">Always true.</param>
public sealed record Subscription(bool Subscribed);

/// <summary>The answer to a contact message the sample accepted: the server event's ID, for the page's Pixel copy.</summary>
/// <param name="EventId">The Contact event's ID.</param>
public sealed record ContactReceipt(string EventId);

/// <summary>Why a request was refused.</summary>
/// <param name="Error">What was wrong, for a person.</param>
public sealed record Problem(string Error);

/// <summary>
/// The JSON the endpoints read and write, described at compile time: a Native AOT program has no reflection-based
/// serializer (Program.cs puts this first in the minimal APIs' JSON options).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Signup))]
[JsonSerializable(typeof(ContactMessage))]
[JsonSerializable(typeof(Subscription))]
[JsonSerializable(typeof(ContactReceipt))]
[JsonSerializable(typeof(Problem))]
public sealed partial class SampleJsonContext : JsonSerializerContext;

/// <summary>The sample's stand-in for a newsletter service: it keeps subscribers in memory.</summary>
public sealed class Newsletter
{
    private readonly ConcurrentDictionary<string, bool> _subscribers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Subscribes <paramref name="email"/>; false when it is not an address at all.</summary>
    public bool Subscribe(string? email)
    {
        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@'))
        {
            return false;
        }

        _subscribers[email.Trim()] = true;
        return true;
    }
}
