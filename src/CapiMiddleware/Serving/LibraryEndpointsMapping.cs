using CapiMiddleware.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CapiMiddleware.Serving;

/// <summary>
/// How the application got the library's endpoints: mapped by <c>app.MapMetaConversions()</c>, or only implicitly by
/// <c>app.UseMetaConversions()</c>, or not at all; once started, the log says what to change in the last two cases.
/// </summary>
internal sealed class LibraryEndpointsMapping(ILogger<LibraryEndpointsMapping> logger)
{
    private int _implicit;
    private int _startCheck;
    private volatile bool _explicit;

    /// <summary>Whether <c>MapMetaConversions()</c> was called, on any of the application's route builders.</summary>
    public bool MappedExplicitly => _explicit;

    public void MarkExplicit() => _explicit = true;

    /// <summary>True for the first caller only, so a second <c>UseMetaConversions()</c> does not map twice.</summary>
    public bool ClaimImplicit() => Interlocked.Exchange(ref _implicit, 1) == 0;

    /// <summary>Once the application has started, every endpoint mapped, says in the log what to change (once per application).</summary>
    public void ReportWhenStarted(IHostApplicationLifetime? lifetime)
    {
        if (lifetime is not null && Interlocked.Exchange(ref _startCheck, 1) == 0)
        {
            lifetime.ApplicationStarted.Register(static state => ((LibraryEndpointsMapping)state!).ReportAtStart(), this);
        }
    }

    private void ReportAtStart()
    {
        if (_explicit)
        {
            return;
        }

        if (Volatile.Read(ref _implicit) == 1)
        {
            Log.EndpointsMappedImplicitly(logger);
        }
        else
        {
            Log.EndpointsNotMapped(logger);
        }
    }
}
