using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Diagnostics;

/// <summary>The Dataset Quality fetcher's messages (events 130-136). None carries the token.</summary>
internal static partial class Log
{
    [LoggerMessage(130, LogLevel.Information, "Fetching Meta's Dataset Quality figures for {PixelCount} pixels every {Interval}.", EventName = "DatasetQualityOn")]
    public static partial void DatasetQualityOn(ILogger logger, int pixelCount, TimeSpan interval);

    [LoggerMessage(131, LogLevel.Warning, "Meta's Dataset Quality figures for pixel {PixelId} could not be fetched: {Problem} Trying again in {Delay}.", EventName = "DatasetQualityFailed")]
    public static partial void DatasetQualityFailed(ILogger logger, string pixelId, string problem, TimeSpan delay);

    [LoggerMessage(132, LogLevel.Debug, "Meta's Dataset Quality figures for pixel {PixelId} still cannot be fetched ({Failures} failures in a row): {Problem} Trying again in {Delay}.", EventName = "DatasetQualityStillFailing")]
    public static partial void DatasetQualityStillFailing(ILogger logger, string pixelId, int failures, string problem, TimeSpan delay);

    [LoggerMessage(133, LogLevel.Information, "Meta's Dataset Quality figures for pixel {PixelId} are fetched again, after {Failures} failed attempts.", EventName = "DatasetQualityRecovered")]
    public static partial void DatasetQualityRecovered(ILogger logger, string pixelId, int failures);

    [LoggerMessage(134, LogLevel.Warning, "Meta's Dataset Quality figures for pixel {PixelId} are not fetched: it has no access token. Set MetaConversions:DatasetQuality:AccessToken, or the pixel's token.", EventName = "DatasetQualityNoToken")]
    public static partial void DatasetQualityNoToken(ILogger logger, string pixelId);

    [LoggerMessage(135, LogLevel.Debug, "Fetched Meta's Dataset Quality figures for pixel {PixelId}: {EventCount} event names.", EventName = "DatasetQualityFetched")]
    public static partial void DatasetQualityFetched(ILogger logger, string pixelId, int eventCount);

    [LoggerMessage(136, LogLevel.Error, "A round of fetching Meta's Dataset Quality figures failed; trying again in a minute.", EventName = "DatasetQualityRoundFailed")]
    public static partial void DatasetQualityRoundFailed(ILogger logger, Exception exception);
}
