namespace CapiMiddleware.Dispatch;

/// <summary>Delivers one batch for one pixel: to Graph, or to the log when there is no access token.</summary>
internal interface IConversionTransport
{
    Task<GraphSendResult> SendAsync(PixelRoute pixel, IReadOnlyList<OutboxEntry> batch, MetaConversionsOptions options, CancellationToken cancellationToken);
}
