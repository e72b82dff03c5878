using CapiMiddleware.Dispatch.Outbox;
using Microsoft.Extensions.Options;

namespace CapiMiddleware.DependencyInjection;

/// <summary>
/// Checks the settings at start-up, so a wrong value stops the application with a message that names the setting
/// instead of losing conversions at the first checkout. Never repeats the access token.
/// </summary>
/// <param name="stores">The stores the packages and the application registered (<c>AddSqliteOutbox</c>, <c>AddOutboxStore</c>).</param>
internal sealed class MetaConversionsOptionsValidator(IEnumerable<OutboxStoreRegistration> stores) : IValidateOptions<MetaConversionsOptions>
{
    private const string Prefix = MetaConversionsOptions.SectionName + ":";

    private readonly OutboxStoreRegistration[] _stores = [.. stores];

    public ValidateOptionsResult Validate(string? name, MetaConversionsOptions options)
    {
        var failures = new List<string>();

        if (!string.IsNullOrEmpty(options.PixelId) && !IsPixelId(options.PixelId))
        {
            failures.Add($"{Prefix}PixelId must be the numeric ID of a Meta Pixel (dataset), 1 to 20 digits, such as 123456789012345; {Unrepeated(options.PixelId)}");
        }

        if (!string.IsNullOrEmpty(options.AccessToken))
        {
            if (string.IsNullOrEmpty(options.PixelId) && (options.Pixels is null || options.Pixels.Count == 0))
            {
                failures.Add($"{Prefix}PixelId is required when {Prefix}AccessToken is set: events need a pixel to go to.");
            }

            if (options.AccessToken.Any(char.IsWhiteSpace))
            {
                failures.Add($"{Prefix}AccessToken contains white space; copy the token again from Events Manager.");
            }
        }

        if (!Uri.TryCreate(options.GraphApiBaseUrl, UriKind.Absolute, out var baseUrl)
            || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.UserInfo))
        {
            failures.Add($"{Prefix}GraphApiBaseUrl must be an absolute https URL without query or user name, such as {MetaConversionsDefaults.GraphApiBaseUrl}; {Unrepeated(options.GraphApiBaseUrl)}");
        }
        else if (baseUrl.Scheme == Uri.UriSchemeHttp && !baseUrl.IsLoopback)
        {
            // The access token travels in the Authorization header: over plain HTTP anyone on the way could read it.
            failures.Add($"{Prefix}GraphApiBaseUrl must use https: the access token would travel in clear over http. Plain http is allowed only for a loopback host (localhost, 127.0.0.1, [::1]), such as a local fake of the Graph API.");
        }

        if (!IsGraphVersion(options.GraphApiVersion))
        {
            failures.Add($"{Prefix}GraphApiVersion must look like '{MetaConversionsDefaults.GraphApiVersion}'; got '{Shorten(options.GraphApiVersion)}'.");
        }

        ValidateTestEventCode(options.TestEventCode, Prefix + "TestEventCode", failures);
        ValidatePixels(options, failures);

        if (options.CookieDomain is { } domain && !IsDomain(domain))
        {
            failures.Add($"{Prefix}CookieDomain must be a registrable domain such as example.com (no scheme, port or leading dot); got '{Shorten(domain)}'.");
        }

        if (options.BatchSize is < 1 or > MetaConversionsDefaults.MaxBatchSize)
        {
            failures.Add($"{Prefix}BatchSize must be from 1 to {MetaConversionsDefaults.MaxBatchSize} (Meta's limit per request); got {options.BatchSize}.");
        }

        if (options.FlushInterval <= TimeSpan.Zero || options.FlushInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{Prefix}FlushInterval must be more than zero and at most 00:01:00; got {options.FlushInterval}.");
        }

        if (options.QueueCapacity is < 1 or > 10_000_000)
        {
            failures.Add($"{Prefix}QueueCapacity must be from 1 to 10000000; got {options.QueueCapacity}.");
        }

        if (options.AttemptTimeout < TimeSpan.FromMilliseconds(100) || options.AttemptTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{Prefix}AttemptTimeout must be from 00:00:00.1 to 00:05:00; got {options.AttemptTimeout}.");
        }

        if (options.MaxRetryAttempts is < 0 or > 20)
        {
            failures.Add($"{Prefix}MaxRetryAttempts must be from 0 to 20; got {options.MaxRetryAttempts}.");
        }

        if (options.RequeueDelay < TimeSpan.Zero || options.RequeueDelay > TimeSpan.FromHours(1))
        {
            failures.Add($"{Prefix}RequeueDelay must be from 00:00:00 to 01:00:00; got {options.RequeueDelay}.");
        }

        if (options.RetryBaseDelay < TimeSpan.Zero || options.RetryBaseDelay > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{Prefix}RetryBaseDelay must be from 00:00:00 to 00:01:00; got {options.RetryBaseDelay}.");
        }

        ValidateOutbox(options.Outbox, failures);
        ValidateIdentities(options.Identities, failures);
        ValidateFollowUps(options.FollowUps, failures);
        ValidateConsentAndCrawlers(options, failures);
        DatasetQualityDefaults.Validate(options.DatasetQuality, failures);

        if (options.Inspector is null)
        {
            failures.Add($"{Prefix}Inspector must not be null.");
        }
        else if (options.Inspector.AuthorizationPolicy is { } policy && (string.IsNullOrWhiteSpace(policy) || policy.Length > 200))
        {
            failures.Add($"{Prefix}Inspector:AuthorizationPolicy must be the name of an authorization policy (1 to 200 characters, not blank), or absent; got '{Shorten(policy)}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidatePixels(MetaConversionsOptions options, List<string> failures)
    {
        if (options.Pixels is null)
        {
            failures.Add($"{Prefix}Pixels must not be null.");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(options.PixelId))
        {
            seen.Add(options.PixelId);
        }

        for (var i = 0; i < options.Pixels.Count; i++)
        {
            var key = $"{Prefix}Pixels:{i}:";
            var pixel = options.Pixels[i];
            if (pixel is null)
            {
                failures.Add($"{key}PixelId is required.");
                continue;
            }

            if (string.IsNullOrEmpty(pixel.PixelId))
            {
                failures.Add($"{key}PixelId is required: the numeric ID of a Meta Pixel (dataset), such as 123456789012345.");
            }
            else if (!IsPixelId(pixel.PixelId))
            {
                failures.Add($"{key}PixelId must be the numeric ID of a Meta Pixel (dataset), 1 to 20 digits, such as 123456789012345; {Unrepeated(pixel.PixelId)}");
            }
            else if (!seen.Add(pixel.PixelId))
            {
                failures.Add($"{key}PixelId {pixel.PixelId} is configured twice; each pixel may appear once ({Prefix}PixelId or one {Prefix}Pixels entry).");
            }

            if (!string.IsNullOrEmpty(pixel.AccessToken) && pixel.AccessToken.Any(char.IsWhiteSpace))
            {
                failures.Add($"{key}AccessToken contains white space; copy the token again from Events Manager.");
            }

            if (!string.IsNullOrEmpty(pixel.AppSecret) && string.IsNullOrEmpty(pixel.AccessToken) && string.IsNullOrEmpty(options.AccessToken))
            {
                failures.Add($"{key}AppSecret is set but no access token is: set {key}AccessToken or {Prefix}AccessToken.");
            }

            ValidateTestEventCode(pixel.TestEventCode, key + "TestEventCode", failures);
            if (pixel.Hosts is null)
            {
                failures.Add($"{key}Hosts must not be null; leave it out for every host.");
                continue;
            }

            for (var h = 0; h < pixel.Hosts.Count; h++)
            {
                if (pixel.Hosts[h] is not { } host || !IsDomain(host.Trim()))
                {
                    failures.Add($"{key}Hosts:{h} must be a host name such as shop.example.com (no scheme, port or path); got '{Shorten(pixel.Hosts[h])}'.");
                }
            }
        }
    }

    private static void ValidateTestEventCode(string? code, string setting, List<string> failures)
    {
        if (code is not null && (code.Length is 0 or > 64 || code.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-')))
        {
            failures.Add($"{setting} must be the code shown in Events Manager's Test Events tab, 1 to 64 letters, digits, '_' or '-', such as TEST12345; {Unrepeated(code)}");
        }
    }

    private static bool IsClientIpEndpoint(string value) =>
        value.Length <= 2048
        && (value.StartsWith('/') && !value.StartsWith("//", StringComparison.Ordinal) && Uri.IsWellFormedUriString(value, UriKind.Relative)
            || Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "https" or "http" && string.IsNullOrEmpty(url.UserInfo));

    private static bool IsPixelId(string value) => value.Length <= 20 && value.All(char.IsAsciiDigit);

    private static void ValidateIdentities(IdentityOptions? identities, List<string> failures)
    {
        const string Identities = Prefix + "Identities:";
        if (identities is null)
        {
            failures.Add($"{Prefix}Identities must not be null.");
            return;
        }

        if (identities.Lifetime < MetaConversionsDefaults.MinIdentityLifetime || identities.Lifetime > MetaConversionsDefaults.MaxIdentityLifetime)
        {
            failures.Add($"{Identities}Lifetime must be from 00:01:00 to 7.00:00:00 (Meta refuses events older than 7 days); got {identities.Lifetime}.");
        }

        if (identities.Capacity is < 1 or > MetaConversionsDefaults.MaxIdentityCapacity)
        {
            failures.Add($"{Identities}Capacity must be from 1 to {MetaConversionsDefaults.MaxIdentityCapacity}; got {identities.Capacity}.");
        }
    }

    private static void ValidateFollowUps(FollowUpOptions? followUps, List<string> failures)
    {
        const string FollowUps = Prefix + "FollowUps:";
        if (followUps is null)
        {
            failures.Add($"{Prefix}FollowUps must not be null.");
            return;
        }

        foreach (var name in followUps.Events ?? [])
        {
            if (MetaEventNames.Problem(name) is { } problem)
            {
                failures.Add($"{FollowUps}Events: '{name}' is not an event name Meta accepts: {problem}.");
            }
        }

        if (followUps.Window < MetaConversionsDefaults.MinFollowUpWindow || followUps.Window > MetaConversionsDefaults.MaxIdentityLifetime)
        {
            failures.Add($"{FollowUps}Window must be from 01:00:00 to 7.00:00:00 (Meta refuses events older than 7 days); got {followUps.Window}.");
        }

        if (followUps.Capacity is < 1 or > MetaConversionsDefaults.MaxIdentityCapacity)
        {
            failures.Add($"{FollowUps}Capacity must be from 1 to {MetaConversionsDefaults.MaxIdentityCapacity}; got {followUps.Capacity}.");
        }
    }

    private void ValidateOutbox(OutboxOptions? outbox, List<string> failures)
    {
        const string Outbox = Prefix + "Outbox:";
        if (outbox is null)
        {
            failures.Add($"{Prefix}Outbox must not be null.");
            return;
        }

        var provider = OutboxProviders.Normalize(outbox.Provider);
        if (provider is null)
        {
            failures.Add($"{Outbox}Provider must be memory, sqlite or redis; got '{Shorten(outbox.Provider)}'.");
            return;
        }

        if (provider == OutboxProviders.Sqlite && string.IsNullOrWhiteSpace(outbox.Path))
        {
            failures.Add($"{Outbox}Path is required when {Outbox}Provider is sqlite: the SQLite file that keeps queued events, such as /var/lib/shop/capi-outbox.db.");
        }

        if (provider == OutboxProviders.Redis)
        {
            if (string.IsNullOrWhiteSpace(outbox.Redis))
            {
                failures.Add($"{Outbox}Redis is required when {Outbox}Provider is redis: a StackExchange.Redis connection string such as redis.internal:6379.");
            }

            if (string.IsNullOrWhiteSpace(outbox.RedisKeyPrefix) || outbox.RedisKeyPrefix.Length > 100
                || outbox.RedisKeyPrefix.AsSpan().IndexOfAny("{} \t\r\n") >= 0)
            {
                failures.Add($"{Outbox}RedisKeyPrefix must be 1 to 100 characters without braces or white space, such as {MetaConversionsDefaults.OutboxRedisKeyPrefix}; got '{Shorten(outbox.RedisKeyPrefix)}'.");
            }
        }

        var custom = OutboxStoreRegistration.Find(_stores, OutboxStoreRegistration.Custom) is not null;
        if (provider is OutboxProviders.Sqlite or OutboxProviders.Redis)
        {
            if (custom)
            {
                failures.Add($"{Outbox}Provider is {provider}, but the application registers a store of its own (AddOutboxStore): remove one of the two.");
            }
            else if (OutboxStoreRegistration.Find(_stores, provider) is not { } registration)
            {
                failures.Add($"{Outbox}Provider is {provider}, but {OutboxStoreRegistration.HowToRegister(provider)}.");
            }
            else
            {
                // The package's own checks, such as Redis's connection string (which only its driver can read).
                registration.Validate?.Invoke(outbox, failures);
            }
        }

        if (outbox.LeaseTimeout < TimeSpan.FromSeconds(1) || outbox.LeaseTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"{Outbox}LeaseTimeout must be from 00:00:01 to 01:00:00; got {outbox.LeaseTimeout}.");
        }

        if (outbox.FallbackPath is { } fallbackPath)
        {
            if (provider == OutboxProviders.Memory && !custom)
            {
                failures.Add($"{Outbox}FallbackPath keeps what sqlite or redis did not take; {Outbox}Provider is memory, which needs none. Remove it, or choose sqlite or redis.");
            }
            else if (string.IsNullOrWhiteSpace(fallbackPath))
            {
                failures.Add($"{Outbox}FallbackPath must be an SQLite file such as /var/lib/shop/capi-fallback.db, or absent for memory.");
            }
            else if (outbox.Path is { } path && !string.IsNullOrWhiteSpace(path)
                && string.Equals(System.IO.Path.GetFullPath(fallbackPath), System.IO.Path.GetFullPath(path), StringComparison.Ordinal))
            {
                failures.Add($"{Outbox}FallbackPath must be another file than {Outbox}Path: it keeps what that file could not take.");
            }
            else if (OutboxStoreRegistration.Find(_stores, OutboxProviders.Sqlite) is null)
            {
                failures.Add($"{Outbox}FallbackPath is an SQLite file, but {OutboxStoreRegistration.HowToRegister(OutboxProviders.Sqlite)}.");
            }
        }

        if (outbox.EnqueueBudget < TimeSpan.FromMilliseconds(1) || outbox.EnqueueBudget > TimeSpan.FromSeconds(10))
        {
            failures.Add($"{Outbox}EnqueueBudget must be from 00:00:00.001 to 00:00:10, such as 00:00:00.050 (50 ms); got {outbox.EnqueueBudget}.");
        }
    }

    private static void ValidateConsentAndCrawlers(MetaConversionsOptions options, List<string> failures)
    {
        if (options.LimitedDataUse is null)
        {
            failures.Add($"{Prefix}LimitedDataUse must not be null.");
        }
        else if (DataProcessingOptions.Problem(options.LimitedDataUse.Country, options.LimitedDataUse.State) is { } problem)
        {
            failures.Add($"{Prefix}LimitedDataUse:Country and {Prefix}LimitedDataUse:State are not valid: {problem}.");
        }

        if (options.ClientIpEndpoint is { } ipEndpoint && !IsClientIpEndpoint(ipEndpoint))
        {
            failures.Add($"{Prefix}ClientIpEndpoint must be an absolute https (or http) URL such as https://ipv6.example.com/_capi/ip, or a path such as /_capi/ip; got '{Shorten(ipEndpoint)}'.");
        }

        if (options.PersonalDataQueryParameters is null)
        {
            failures.Add($"{Prefix}PersonalDataQueryParameters must not be null; leave it out for the built-in rules only.");
        }
        else
        {
            foreach (var parameter in options.PersonalDataQueryParameters)
            {
                if (string.IsNullOrWhiteSpace(parameter) || parameter.Length > 64)
                {
                    failures.Add($"{Prefix}PersonalDataQueryParameters must hold query parameter names, 1 to 64 characters each, such as customer; got '{Shorten(parameter)}'.");
                }
            }
        }

        if (options.CrawlerUserAgents is { } crawlers)
        {
            foreach (var crawler in crawlers)
            {
                if (string.IsNullOrWhiteSpace(crawler) || crawler.Length > 200)
                {
                    failures.Add($"{Prefix}CrawlerUserAgents must hold parts of a User-Agent, 1 to 200 characters each, such as facebookexternalhit; got '{Shorten(crawler)}'.");
                }
            }
        }
    }

    private static bool IsGraphVersion(string? version)
    {
        // v{major}.{minor}, as Graph's paths name versions.
        if (version is null || version.Length < 4 || version[0] != 'v')
        {
            return false;
        }

        var dot = version.IndexOf('.');
        return dot > 1 && dot < version.Length - 1
            && version.AsSpan(1, dot - 1).ContainsAnyExceptInRange('0', '9') is false
            && version.AsSpan(dot + 1).ContainsAnyExceptInRange('0', '9') is false;
    }

    private static bool IsDomain(string domain)
    {
        if (domain.Length is 0 or > 253 || domain[0] == '.' || domain[^1] == '.' || domain.Contains(".."))
        {
            return false;
        }

        foreach (var c in domain)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '.')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Describes a bad value of a setting where a secret may have been pasted by mistake (an access token in PixelId),
    /// without repeating it: the log must never carry the token.
    /// </summary>
    private static string Unrepeated(string? value) =>
        $"the value set ({value?.Length ?? 0} characters) is not repeated here, in case it is a secret pasted into the wrong setting.";

    // Echo bad values of settings that hold no secret, so the message helps, but never at length.
    private static string Shorten(string? value) =>
        value is null ? "" : value.Length <= 40 ? value : value[..40] + "…";
}
