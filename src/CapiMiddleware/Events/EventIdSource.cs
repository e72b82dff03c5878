namespace CapiMiddleware.Events;

/// <summary>Which side chose an event's ID; the inspector shows it, because an ID the browser chose is an input to check.</summary>
internal enum EventIdSource
{
    /// <summary>Random, minted by the library.</summary>
    Generated,

    /// <summary>Set by the server: <c>UseEventId</c> (such as an order number), or <see cref="ConversionEvent.EventId"/>.</summary>
    Server,

    /// <summary>The browser's <c>X-Meta-Event-Id</c>, on an endpoint that accepts it and set no ID of its own.</summary>
    Browser,
}
