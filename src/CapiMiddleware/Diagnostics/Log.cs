using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Diagnostics;

/// <summary>
/// Every message this library logs, numbered. None carries the access token or an unhashed personal field.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Queued {EventName} event {EventId}.", EventName = "EventQueued")]
    public static partial void EventQueued(ILogger logger, string eventName, string eventId);

    [LoggerMessage(2, LogLevel.Warning, "Dropped {EventName} event {EventId}: the queue is full (MetaConversions:QueueCapacity = {Capacity}); {Dropped} dropped so far. Meta may be unreachable.", EventName = "QueueFull")]
    public static partial void QueueFull(ILogger logger, string eventName, string eventId, int capacity, long dropped);

    [LoggerMessage(3, LogLevel.Warning, "{EventName} event {EventId} was not sent: {Reason}.", EventName = "EventInvalid")]
    public static partial void EventInvalid(ILogger logger, string eventName, string eventId, string reason);

    [LoggerMessage(4, LogLevel.Debug, "Sent {Count} events to pixel {PixelId}; Meta received {Received} (fbtrace_id {FbTraceId}).", EventName = "BatchSent")]
    public static partial void BatchSent(ILogger logger, int count, string pixelId, int received, string fbTraceId);

    [LoggerMessage(5, LogLevel.Information, "Not sending {Count} events (no {TokenSetting} set); would POST to {Target}: {Payload}", EventName = "WouldSend")]
    public static partial void WouldSend(ILogger logger, int count, string tokenSetting, string target, string payload);

    [LoggerMessage(6, LogLevel.Warning, "Meta did not accept {Count} events for pixel {PixelId}; trying again in {Delay}. {Failure}", EventName = "BatchDeferred")]
    public static partial void BatchDeferred(ILogger logger, int count, string pixelId, TimeSpan delay, string failure);

    [LoggerMessage(7, LogLevel.Error, "Meta rejected {Count} events for pixel {PixelId} (first: {EventName} {EventId}); they will not be retried. {Failure}", EventName = "EventsRejected")]
    public static partial void EventsRejected(ILogger logger, int count, string pixelId, string eventName, string eventId, string failure);

    [LoggerMessage(8, LogLevel.Error, "Sending to Meta with this token is paused. {Fix} {Failure} {Queued} events are kept and will be sent once this is fixed.", EventName = "TokenProblem")]
    public static partial void TokenProblem(ILogger logger, string fix, string failure, long queued);

    [LoggerMessage(9, LogLevel.Information, "Retrying a batch (attempt {Attempt}) in {Delay}: {Failure}", EventName = "Retrying")]
    public static partial void Retrying(ILogger logger, int attempt, TimeSpan delay, string failure);

    [LoggerMessage(10, LogLevel.Warning, "Requests come from a loopback or private address, so no client IP address is sent to Meta. Behind a proxy or load balancer, add app.UseForwardedHeaders() with the proxy as a known proxy before app.UseMetaConversions().", EventName = "PrivateClientAddress")]
    public static partial void PrivateClientAddress(ILogger logger);

    [LoggerMessage(11, LogLevel.Warning, "{Count} events were still queued in memory at shutdown and are lost. Use a durable outbox store to keep them.", EventName = "EventsLostAtShutdown")]
    public static partial void EventsLostAtShutdown(ILogger logger, long count);

    [LoggerMessage(12, LogLevel.Warning, "The Pixel's copy of {Count} events could not follow the redirect (too large for a cookie); the server events are sent as usual.", EventName = "PixelEventsTooLarge")]
    public static partial void PixelEventsTooLarge(ILogger logger, int count);

    [LoggerMessage(13, LogLevel.Debug, "Set {Cookie} for the click ID or browser ID of this visitor.", EventName = "CookieSet")]
    public static partial void CookieSet(ILogger logger, string cookie);

    [LoggerMessage(14, LogLevel.Warning, "The Pixel events carried over a redirect could not be read (the data protection keys may have changed, or the cookie was altered); they are skipped. {Occurrences} unreadable so far; said at most once a minute.", EventName = "PendingPixelEventsUnreadable")]
    public static partial void PendingPixelEventsUnreadable(ILogger logger, long occurrences);

    [LoggerMessage(22, LogLevel.Debug, "Removed {Count} query parameters that looked like personal data from the URLs of {EventName} event {EventId}; Meta flags events whose URLs carry it.", EventName = "PersonalDataRemovedFromUrls")]
    public static partial void PersonalDataRemovedFromUrls(ILogger logger, int count, string eventName, string eventId);

    [LoggerMessage(21, LogLevel.Debug, "The Pixel events carried over a redirect had expired (older than their 10 minutes: a replayed cookie); they are skipped.", EventName = "PendingPixelEventsExpired")]
    public static partial void PendingPixelEventsExpired(ILogger logger);

    [LoggerMessage(15, LogLevel.Error, "Could not record the {EventName} conversion; the request goes on without it.", EventName = "CommitFailed")]
    public static partial void CommitFailed(ILogger logger, Exception exception, string eventName);

    [LoggerMessage(16, LogLevel.Error, "Could not render the Pixel's page data; the page goes on without it.", EventName = "PageDataFailed")]
    public static partial void PageDataFailed(ILogger logger, Exception exception);

    [LoggerMessage(17, LogLevel.Error, "The background sender failed ({Failures} times so far); it goes on in a few seconds. Queued events are kept. Said at most once a minute.", EventName = "SenderFailed")]
    public static partial void SenderFailed(ILogger logger, Exception exception, long failures);

    [LoggerMessage(18, LogLevel.Debug, "{EventName} event {EventId}: match quality estimate {Quality}.", EventName = "EventMatchQuality")]
    public static partial void EventMatchQuality(ILogger logger, string eventName, string eventId, MatchQuality quality);

    [LoggerMessage(19, LogLevel.Warning, "{EventName} events are arriving without email, phone or click ID, so Meta can match few of them to people. Pass the customer's email and phone with WithUser(...), or let signed-in users' claims fill them; see \"Raising Event Match Quality\" (docs/match-quality.md in the repository). (Said at most once an hour.)", EventName = "WeakIdentifiers")]
    public static partial void WeakIdentifiers(ILogger logger, string eventName);

    [LoggerMessage(20, LogLevel.Information, "  {EventName} {EventId}: match quality estimate {Quality}", EventName = "WouldSendEvent")]
    public static partial void WouldSendEvent(ILogger logger, string eventName, string eventId, MatchQuality quality);

    // 70-79: consent, Limited Data Use and crawlers.
    [LoggerMessage(70, LogLevel.Error, "MetaConversions:ConsentResolver threw ({Failures} times so far); each such request is decided as if it had not answered: by the tracking consent feature (CookiePolicy), else tracked. Said at most once a minute.", EventName = "ConsentResolverFailed")]
    public static partial void ConsentResolverFailed(ILogger logger, Exception exception, long failures);

    [LoggerMessage(71, LogLevel.Debug, "{EventName} event not recorded: {Reason}.", EventName = "EventNotTracked")]
    public static partial void EventNotTracked(ILogger logger, string eventName, string reason);

    // 40-49: the outbox stores.
    [LoggerMessage(40, LogLevel.Warning, "Dropped {Count} queued events (last: {EventName} {EventId}), {Reason}; {Dropped} dropped so far.", EventName = "StaleEventsDropped")]
    public static partial void StaleEventsDropped(ILogger logger, int count, string eventName, string eventId, string reason, long dropped);

    [LoggerMessage(41, LogLevel.Information, "The SQLite outbox at {Path} holds {Count} events. Entries a previous process had leased are sent again once their lease runs out (MetaConversions:Outbox:LeaseTimeout = {LeaseTimeout}).", EventName = "SqliteOutboxOpened")]
    public static partial void SqliteOutboxOpened(ILogger logger, string path, long count, TimeSpan leaseTimeout);

    [LoggerMessage(42, LogLevel.Information, "This node sends from the Redis outbox {Stream} as consumer {Consumer}; entries another node left pending for MetaConversions:Outbox:LeaseTimeout = {LeaseTimeout} are claimed.", EventName = "RedisOutboxJoined")]
    public static partial void RedisOutboxJoined(ILogger logger, string stream, string consumer, TimeSpan leaseTimeout);

    [LoggerMessage(43, LogLevel.Warning, "Could not renew the leases of {Count} outbox entries being sent. If this lasts longer than MetaConversions:Outbox:LeaseTimeout, another process may send them too; Meta deduplicates by event ID.", EventName = "LeaseRenewalFailed")]
    public static partial void LeaseRenewalFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(44, LogLevel.Error, "Could not store {EventName} event {EventId} in the outbox; it will not be sent.", EventName = "OutboxWriteFailed")]
    public static partial void OutboxWriteFailed(ILogger logger, Exception exception, string eventName, string eventId);

    [LoggerMessage(45, LogLevel.Information, "Claimed {Count} outbox entries that another node left unsent for longer than MetaConversions:Outbox:LeaseTimeout.", EventName = "EntriesClaimed")]
    public static partial void EntriesClaimed(ILogger logger, int count);

    [LoggerMessage(46, LogLevel.Warning, "Removed {Count} unreadable entries from the Redis outbox {Stream} (not written by this version of CapiMiddleware); they cannot be sent.", EventName = "UnreadableEntries")]
    public static partial void UnreadableEntries(ILogger logger, int count, string stream);

    [LoggerMessage(47, LogLevel.Warning, "Could not checkpoint the SQLite outbox's write-ahead log; trying again in a second.", EventName = "CheckpointFailed")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(58, LogLevel.Information, "The SQLite outbox at {Path} was created before it could give freed space back to the disk; rebuilt once (VACUUM) with incremental vacuuming on, in {Elapsed}.", EventName = "SqliteOutboxRebuilt")]
    public static partial void SqliteOutboxRebuilt(ILogger logger, string path, TimeSpan elapsed);

    [LoggerMessage(59, LogLevel.Warning, "Could not turn on incremental vacuuming in the SQLite outbox at {Path} (another process has it open?); the file keeps its size after a backlog drains. Trying again at the next start.", EventName = "SqliteOutboxRebuildFailed")]
    public static partial void SqliteOutboxRebuildFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(48, LogLevel.Warning, "Could not dead-letter {Count} outbox entries too old to send; they are dropped when next leased.", EventName = "StaleDropFailed")]
    public static partial void StaleDropFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(49, LogLevel.Warning, "The consumer group of the Redis outbox {Stream} was gone (Redis restarted without persistence?); it is created again.", EventName = "ConsumerGroupRecreated")]
    public static partial void ConsumerGroupRecreated(ILogger logger, string stream);

    // 50-59: the fallback of a durable outbox store (FallbackOutboxStore).
    [LoggerMessage(50, LogLevel.Warning, "{Count} events did not go into the {Store} outbox within MetaConversions:Outbox:EnqueueBudget, or it refused them: they wait in the {Fallback} fallback ({Held} there now) and move to {Store} once it takes events again. Said at most once a minute.", EventName = "EventsFellBack")]
    public static partial void EventsFellBack(ILogger logger, Exception? exception, long count, string store, string fallback, long held);

    [LoggerMessage(51, LogLevel.Warning, "The {Store} outbox failed {Failures} times in a row (last: {Failure}): requests put events in the {Fallback} fallback without trying it for {ProbeIn}, then one tries it again.", EventName = "StoreSkipped")]
    public static partial void StoreSkipped(ILogger logger, string store, int failures, string failure, string fallback, TimeSpan probeIn);

    [LoggerMessage(52, LogLevel.Information, "The {Store} outbox takes events again; the {Held} events in the {Fallback} fallback move to it.", EventName = "StoreBack")]
    public static partial void StoreBack(ILogger logger, string store, long held, string fallback);

    [LoggerMessage(53, LogLevel.Debug, "Moved {Count} events from the {Fallback} fallback to the {Store} outbox.", EventName = "FallbackDrained")]
    public static partial void FallbackDrained(ILogger logger, int count, string fallback, string store);

    [LoggerMessage(54, LogLevel.Warning, "Could not move events from the fallback to the {Store} outbox; trying again shortly.", EventName = "FallbackDrainFailed")]
    public static partial void FallbackDrainFailed(ILogger logger, Exception exception, string store);

    [LoggerMessage(55, LogLevel.Error, "{EventName} event {EventId}: its write to the {Store} outbox outlived MetaConversions:Outbox:EnqueueBudget and then failed, and the {Fallback} fallback is full (MetaConversions:QueueCapacity); it will not be sent.", EventName = "LateWriteLost")]
    public static partial void LateWriteLost(ILogger logger, Exception? exception, string eventName, string eventId, string store, string fallback);

    [LoggerMessage(56, LogLevel.Warning, "{Count} events were still in the {Fallback} fallback at shutdown, waiting for the {Store} outbox to take them, and are lost.", EventName = "FallbackLostAtShutdown")]
    public static partial void FallbackLostAtShutdown(ILogger logger, long count, string fallback, string store);

    [LoggerMessage(57, LogLevel.Information, "{Count} events stay in the {Fallback} fallback at shutdown, waiting for the {Store} outbox; the next start moves them to it.", EventName = "FallbackKeptAtShutdown")]
    public static partial void FallbackKeptAtShutdown(ILogger logger, long count, string fallback, string store);

    [LoggerMessage(80, LogLevel.Warning, "HttpContext.MetaConversion(\"{EventName}\") declared a new conversion, although \"{DeclaredName}\" is declared for this request. Event names are case-sensitive: \"{EventName}\" is reported as an event of its own.", EventName = "ConversionNameDiffersInCase")]
    public static partial void ConversionNameDiffersInCase(ILogger logger, string eventName, string declaredName);

    [LoggerMessage(82, LogLevel.Warning, "A request for {EventName} carried the snippet's event ID (X-Meta-Event-Id), which this conversion does not accept, so it was ignored: if the page fires the Pixel's copy itself with metaCapi.track, set AcceptBrowserEventId = true on [MetaConversion] (or .WithMetaConversion(name, acceptBrowserEventId: true)), else the two copies are not deduplicated. {Occurrences} ignored so far; said at most once an hour.", EventName = "BrowserEventIdIgnored")]
    public static partial void BrowserEventIdIgnored(ILogger logger, string eventName, long occurrences);

    [LoggerMessage(83, LogLevel.Warning, "{EventName} took its event ID from UseEventId although the request carried the snippet's event ID (X-Meta-Event-Id), which it accepts: the browser's copy, already fired with its own ID, and the server's copy are not deduplicated. Accept browser event IDs only where the action sets no ID of its own. {Occurrences} so far; said at most once an hour.", EventName = "BrowserEventIdOverridden")]
    public static partial void BrowserEventIdOverridden(ILogger logger, string eventName, long occurrences);

    [LoggerMessage(84, LogLevel.Debug, "{EventName} is declared in a page a cache shares between visitors: each visitor's snippet reports it with its own event ID (POST /_capi/events).", EventName = "EventDeclaredForSharedPage")]
    public static partial void EventDeclaredForSharedPage(ILogger logger, string eventName);

    // 90-99: identities captured for payment confirmations.
    [LoggerMessage(90, LogLevel.Warning, "Could not keep the visitor's identity for the payment confirmation within MetaConversions:Outbox:EnqueueBudget (a save still under way finishes on its own); the checkout goes on, and without it the confirmation is reported with what it has.", EventName = "IdentityNotCaptured")]
    public static partial void IdentityNotCaptured(ILogger logger, Exception exception);

    [LoggerMessage(91, LogLevel.Warning, "Could not read the identity captured for this {EventName}; it is reported with what it has.", EventName = "IdentityNotRead")]
    public static partial void IdentityNotRead(ILogger logger, Exception exception, string eventName);

    [LoggerMessage(92, LogLevel.Warning, "No identity was captured under the key of this {EventName} (unknown, used already, or older than MetaConversions:Identities:Lifetime): it is sent with what it has, as a system_generated event if it lacks a user agent or page URL. Capture it with HttpContext.CaptureMetaIdentityAsync(key) when the visitor starts paying. {Occurrences} so far; said at most once a minute.", EventName = "IdentityMissing")]
    public static partial void IdentityMissing(ILogger logger, string eventName, long occurrences);

    [LoggerMessage(81, LogLevel.Debug, "{EventName} was not reported: the response's status was {StatusCode}.", EventName = "ConversionNotReported")]
    public static partial void ConversionNotReported(ILogger logger, string eventName, int statusCode);

    // 60-69: the inspector page.
    [LoggerMessage(60, LogLevel.Warning, "The inspector stays off: MetaConversions:Inspector:Enabled is true outside Development, where it shows events only behind an authorization policy. Register a policy (builder.Services.AddAuthorization(o => o.AddPolicy(\"CapiInspector\", p => p.RequireRole(\"admin\")))) and set MetaConversions:Inspector:AuthorizationPolicy to its name.", EventName = "InspectorNeedsPolicy")]
    public static partial void InspectorNeedsPolicy(ILogger logger);

    [LoggerMessage(61, LogLevel.Error, "The inspector's authorization policy '{Policy}' (MetaConversions:Inspector:AuthorizationPolicy) is not registered, or AddAuthorization() was not called; the inspector answers 404 until it is. {Occurrences} requests so far; said at most once a minute.", EventName = "InspectorPolicyMissing")]
    public static partial void InspectorPolicyMissing(ILogger logger, string policy, long occurrences);

    [LoggerMessage(62, LogLevel.Information, "The Meta Conversions inspector is on at {Path} ({Access}). MetaConversions:Inspector:Enabled = false turns it off.", EventName = "InspectorOn")]
    public static partial void InspectorOn(ILogger logger, string path, string access);

    // 120-129: the endpoints the library serves (app.MapMetaConversions()).
    [LoggerMessage(120, LogLevel.Warning, "app.UseMetaConversions() mapped the snippet, the beacon and the inspector under /_capi itself, because app.MapMetaConversions() was not called; the application's authorization, rate limiting and CORS policies cannot be added to them. Call app.MapMetaConversions() (after app.UseMetaConversions()) to map them with the rest of the library's endpoints.", EventName = "EndpointsMappedImplicitly")]
    public static partial void EndpointsMappedImplicitly(ILogger logger);

    [LoggerMessage(121, LogLevel.Error, "The Meta Conversions snippet, beacon and inspector are not served: they are endpoints, and app.MapMetaConversions() was not called (this application builder cannot map them by itself). Pages that render <meta-pixel /> load their snippet from /_capi/ and get a 404. Call endpoints.MapMetaConversions() in UseEndpoints(...).", EventName = "EndpointsNotMapped")]
    public static partial void EndpointsNotMapped(ILogger logger);

    // 150-159: follow-up values on events already sent.
    [LoggerMessage(150, LogLevel.Warning, "Could not remember {EventName} event {EventId} for follow-up values; the event itself is queued, but a later value for it will be refused as unknown. {Occurrences} not remembered so far; said at most once a minute.", EventName = "FollowUpOriginalNotKept")]
    public static partial void FollowUpOriginalNotKept(ILogger logger, Exception exception, string eventName, string eventId, long occurrences);

    [LoggerMessage(151, LogLevel.Warning, "A follow-up value for '{Key}' was not queued: {Reason}.", EventName = "FollowUpRefused")]
    public static partial void FollowUpRefused(ILogger logger, string key, string reason);

    [LoggerMessage(152, LogLevel.Warning, "A follow-up value was not queued: the store of remembered events could not answer.", EventName = "FollowUpIndexUnavailable")]
    public static partial void FollowUpIndexUnavailable(ILogger logger, Exception exception);

    // 140-149: start-up.
    [LoggerMessage(140, LogLevel.Warning, "Could not prepare the library at start-up; what it prepares is built on first use instead, and the first request waits for it.", EventName = "WarmUpFailed")]
    public static partial void WarmUpFailed(ILogger logger, Exception exception);
}
