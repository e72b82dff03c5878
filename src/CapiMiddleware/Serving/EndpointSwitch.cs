using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace CapiMiddleware.Serving;

/// <summary>
/// Endpoint metadata: the library's endpoint exists for routing only while <see cref="IsOnAsync"/> says so (the
/// snippet while the library is on, the beacon while it reports Pixel blocking, the inspector while it is on). Switched
/// off, routing passes it by (<see cref="EndpointSwitchPolicy"/>) and the path is the application's, as if the endpoint
/// were never mapped: its own endpoint, its fallback, or its 404.
/// </summary>
internal sealed class EndpointSwitch(Func<HttpContext, ValueTask<bool>> isOn)
{
    public ValueTask<bool> IsOnAsync(HttpContext context) => isOn(context);
}

/// <summary>
/// Invalidates the candidates whose <see cref="EndpointSwitch"/> is off, the way ASP.NET Core's own matcher policies
/// choose among endpoints per request. It runs only on paths where one of the library's switched endpoints matched.
/// </summary>
internal sealed class EndpointSwitchPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    /// <summary>After the HTTP method and host policies.</summary>
    public override int Order => 1000;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            if (endpoint.Metadata.GetMetadata<EndpointSwitch>() is not null)
            {
                return true;
            }
        }

        return false;
    }

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates) => Apply(httpContext, candidates, 0);

    private static Task Apply(HttpContext httpContext, CandidateSet candidates, int start)
    {
        for (var i = start; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i) || candidates[i].Endpoint.Metadata.GetMetadata<EndpointSwitch>() is not { } endpointSwitch)
            {
                continue;
            }

            // The options' switches answer at once (no state machine on the snippet's requests); the inspector's may wait.
            var isOn = endpointSwitch.IsOnAsync(httpContext);
            if (!isOn.IsCompletedSuccessfully)
            {
                return ApplyAfterAsync(httpContext, candidates, i, isOn);
            }

            if (!isOn.Result)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }

    private static async Task ApplyAfterAsync(HttpContext httpContext, CandidateSet candidates, int index, ValueTask<bool> isOn)
    {
        if (!await isOn.ConfigureAwait(false))
        {
            candidates.SetValidity(index, false);
        }

        await Apply(httpContext, candidates, index + 1).ConfigureAwait(false);
    }
}
