using System.Collections.Concurrent;

namespace MinimalApi;

/// <summary>A newsletter signup, posted as JSON by the page.</summary>
/// <param name="Email">The subscriber's email address.</param>
public sealed record Signup(string? Email);

/// <summary>A message for the shop, posted as JSON by the page.</summary>
/// <param name="Email">Where to answer.</param>
/// <param name="Text">The message.</param>
public sealed record ContactMessage(string? Email, string? Text);

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
