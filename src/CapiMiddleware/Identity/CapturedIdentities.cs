using CapiMiddleware.Context;
using CapiMiddleware.Diagnostics;
using CapiMiddleware.Events;
using CapiMiddleware.Hashing;
using CapiMiddleware.Hosting;
using CapiMiddleware.Records;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.Identity;

/// <summary>The keys identities are captured under: an order ID or a payment session ID.</summary>
internal static class IdentityKeys
{
    public const int MaxLength = 200;

    /// <summary>Refuses a key that is empty, longer than <see cref="MaxLength"/>, or has control characters.</summary>
    public static string Require(string? key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (key.Length > MaxLength || key.Any(char.IsControl))
        {
            throw new ArgumentException($"An identity key (an order or payment session ID) must be 1 to {MaxLength} characters without control characters.", nameof(key));
        }

        return key;
    }
}

/// <summary>
/// Captures a visitor's identity when they start paying, and joins it to the event a payment confirmation reports
/// later, server to server, without cookies or a browser. What is kept holds no raw personal data (the user fields are
/// hashed first), lives at most <c>MetaConversions:Identities:Lifetime</c>, is used once, and is never kept without
/// consent: for a visitor who had not consented only that fact is kept, so the confirmation reports nothing.
/// </summary>
internal sealed class CapturedIdentities
{
    private readonly IKeptRecords<CapturedIdentity> _store;
    private readonly TrackingConsent _consent;
    private readonly IOptionsMonitor<MetaConversionsOptions> _options;
    private readonly TimeProvider _time;
    private readonly ConversionMetrics _metrics;
    private readonly ILogger<CapturedIdentities> _logger;
    private readonly LogThrottle _missing = new(LogThrottle.PerMinute);

    public CapturedIdentities(
        IKeptRecords<CapturedIdentity> store,
        TrackingConsent consent,
        IOptionsMonitor<MetaConversionsOptions> options,
        TimeProvider time,
        ConversionMetrics metrics,
        ILogger<CapturedIdentities> logger)
    {
        _store = store;
        _consent = consent;
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Captures this request's visitor under <paramref name="key"/>; never throws into the request.</summary>
    public async ValueTask CaptureAsync(HttpContext context, string key, Action<UserData>? configure, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        if (!options.Enabled)
        {
            return;
        }

        var decision = _consent.Decide(context);
        if (decision == TrackingDecision.Crawler)
        {
            return;
        }

        var now = _time.GetUtcNow();
        CapturedIdentity identity;
        if (decision == TrackingDecision.NoConsent)
        {
            identity = new CapturedIdentity(false, null, null, null, null, null, new Dictionary<string, string[]>(), now);
        }
        else
        {
            var user = new UserData();
            configure?.Invoke(user);
            if (options.FillUserDataFromClaims)
            {
                SignedInUser.Fill(user, context.User);
            }

            var request = MetaRequestContext.Get(context);
            identity = new CapturedIdentity(
                true, request.ClickId, request.BrowserId, request.ClientIpAddress, request.UserAgent, request.PageUrl, Hash(user), now);
        }

        try
        {
            // The checkout waits for the store no longer than for the outbox (Outbox:EnqueueBudget): a sick Redis or a
            // locked file must not stall it. A save still under way then finishes on its own.
            await _store.SaveAsync(key, identity, now + options.Identities.Lifetime, cancellationToken).AsTask()
                .WaitAsync(options.Outbox.EnqueueBudget, _time, cancellationToken).ConfigureAwait(false);
            _metrics.IdentityCaptured(identity.Consent);
        }
        catch (Exception ex) when (!ex.IsCancellationBy(cancellationToken)) // a TimeoutException past the budget included
        {
            // The checkout goes on; the confirmation will be reported with what it has.
            Log.IdentityNotCaptured(_logger, ex);
        }
    }

    /// <summary>
    /// The event with the identity captured under its key joined in; null when the visitor had not consented (nothing
    /// is to be sent). An unknown or expired key, or a store that cannot answer: the event as it is, marked
    /// <see cref="ActionSource.SystemGenerated"/> when it lacks what a website event needs, with a warning and a count.
    /// </summary>
    public async ValueTask<ConversionEvent?> JoinAsync(ConversionEvent conversionEvent, string key, CancellationToken cancellationToken)
    {
        CapturedIdentity? identity;
        try
        {
            identity = await _store.TakeAsync(key, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ex.IsCancellationBy(cancellationToken))
        {
            Log.IdentityNotRead(_logger, ex, conversionEvent.EventName);
            identity = null;
        }

        var withId = conversionEvent with { EventId = conversionEvent.EventId ?? key };
        if (identity is null)
        {
            _metrics.IdentityJoined("missing");
            if (_missing.ShouldLog(_time, out var occurrences))
            {
                Log.IdentityMissing(_logger, conversionEvent.EventName, occurrences);
            }

            var user = withId.UserData;
            return withId.ActionSource == ActionSource.Website && (user.ClientUserAgent is null || withId.EventSourceUrl is null)
                ? withId with { ActionSource = ActionSource.SystemGenerated }
                : withId;
        }

        if (!identity.Consent)
        {
            _metrics.IdentityJoined("no_consent");
            Log.EventNotTracked(_logger, conversionEvent.EventName, "the visitor had not consented to tracking when the identity was captured");
            return null;
        }

        _metrics.IdentityJoined("joined");
        var data = withId.UserData;
        data.ClickId ??= identity.ClickId;
        data.BrowserId ??= identity.BrowserId;
        data.ClientIpAddress ??= identity.ClientIpAddress;
        data.ClientUserAgent ??= identity.UserAgent;
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            if (identity.HashedUserData.TryGetValue(field.WireName(), out var hashes))
            {
                foreach (var hash in hashes)
                {
                    data.AddValue(field, hash); // already hashed: passed through, and the same value twice is sent once
                }
            }
        }

        return withId with { ActionSource = ActionSource.Website, EventSourceUrl = withId.EventSourceUrl ?? identity.PageUrl };
    }

    /// <summary>The user fields hashed as they would be sent, by their wire names; raw values are never kept.</summary>
    private static Dictionary<string, string[]> Hash(UserData user)
    {
        var hashed = UserDataHasher.NormalizeAndHashAll(user);
        var fields = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var field in Enum.GetValues<UserDataField>())
        {
            if (hashed[(int)field] is { Length: > 0 } values)
            {
                fields[field.WireName()] = values;
            }
        }

        return fields;
    }
}
