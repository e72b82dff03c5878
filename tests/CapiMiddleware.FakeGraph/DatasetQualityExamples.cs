namespace CapiMiddleware.FakeGraph;

/// <summary>
/// Dataset Quality answers shaped as Meta's Dataset Quality API page shows them, with its example figures and
/// sentences, for <see cref="FakeGraphApiServer.SetDatasetQuality"/>.
/// </summary>
public static class DatasetQualityExamples
{
    /// <summary>
    /// Every documented field: a Purchase sent by the Pixel and the server (match quality with match keys, their
    /// potential gain and diagnostics, additional conversions reported, event coverage with its goal and potential gain,
    /// deduplication keys, data freshness), a Lead sent hourly, and a PageView only the Pixel sends.
    /// </summary>
    public const string EveryField = """
        {
          "web": [
            {
              "event_name": "Purchase",
              "event_match_quality": {
                "composite_score": 7.2,
                "match_key_feedback": [
                  {
                    "identifier": "email",
                    "coverage": { "percentage": 100 },
                    "potential_aly_acr_increase": {
                      "percentage": 58.96,
                      "description": "Similar advertisers who sent valid Email for Purchase saw a 58.96% median increase in their existing additional conversions reported."
                    }
                  },
                  {
                    "identifier": "ip_address",
                    "coverage": { "percentage": 99.9 },
                    "potential_aly_acr_increase": {
                      "percentage": 20.65,
                      "description": "Similar advertisers who sent valid Ip Address for Purchase saw a 20.65% median increase in their existing additional conversions reported."
                    }
                  },
                  { "identifier": "user_agent", "coverage": { "percentage": 100 } },
                  { "identifier": "external_id", "coverage": { "percentage": 41.5 } }
                ],
                "diagnostics": [
                  {
                    "name": "Server sending mismatched IP addresses",
                    "description": "Your server is sending client IP addresses that do not match those from Meta Pixel. This may impact the attribution and optimization of your ad campaigns.",
                    "solution": "In your server payload, send the client_ip_address retrieved from customer interactions. Use the payload helper to see how this value should be structured when it's sent to Meta.",
                    "percentage": 61.5,
                    "affected_event_count": 19567,
                    "total_event_count": 31830
                  }
                ]
              },
              "acr": {
                "description": "In the last 7 days, you saw about 37.9% more conversions reported for Purchase events by using the Conversions API alongside the Meta Pixel.",
                "percentage": 37.9
              },
              "event_coverage": {
                "percentage": 34.1,
                "goal_percentage": 75,
                "description": "The percentage of events received from your Conversions API compared to unique browser events from the Meta Pixel.",
                "potential_aly_acr_increase": {
                  "percentage": 35.8,
                  "description": "Similar advertisers who send the same Purchase pixel events with matching deduplication keys through Conversions API saw a median of 35.8% additional conversions reported versus those that only used Meta Pixel."
                }
              },
              "dedupe_key_feedback": [
                {
                  "dedupe_key": "event_id",
                  "browser_events_with_dedupe_key": { "percentage": 100, "description": "The percentage of browser events that contain this dedupe key." },
                  "server_events_with_dedupe_key": { "percentage": 100, "description": "The percentage of server events that contain this dedupe key." },
                  "overall_browser_coverage_from_dedupe_key": { "percentage": 14.8, "description": "The overall percentage of browser events that are deduped with Conversions API events using this key. This percentage is incremental for each dedupe key." }
                },
                {
                  "dedupe_key": "external_id",
                  "browser_events_with_dedupe_key": { "percentage": 100, "description": "The percentage of browser events that contain this dedupe key." },
                  "server_events_with_dedupe_key": { "percentage": 100, "description": "The percentage of server events that contain this dedupe key." },
                  "overall_browser_coverage_from_dedupe_key": { "percentage": 15.96, "description": "The overall percentage of browser events that are deduped with Conversions API events using this key. This percentage is incremental for each dedupe key." }
                },
                {
                  "dedupe_key": "fbp",
                  "browser_events_with_dedupe_key": { "percentage": 0, "description": "The percentage of browser events that contain this dedupe key." },
                  "server_events_with_dedupe_key": { "percentage": 0, "description": "The percentage of server events that contain this dedupe key." },
                  "overall_browser_coverage_from_dedupe_key": { "percentage": 0, "description": "The overall percentage of browser events that are deduped with Conversions API events using this key. This percentage is incremental for each dedupe key." }
                }
              ],
              "data_freshness": {
                "upload_frequency": "real_time",
                "description": "The average frequency with which instances of this event are received through the Conversions API."
              }
            },
            {
              "event_name": "Lead",
              "event_match_quality": {
                "composite_score": 6.2,
                "match_key_feedback": [
                  { "identifier": "user_agent", "coverage": { "percentage": 100 } },
                  { "identifier": "external_id", "coverage": { "percentage": 100 } }
                ]
              },
              "event_coverage": {
                "percentage": 88,
                "goal_percentage": 75,
                "description": "The percentage of events received from your Conversions API compared to unique browser events from the Meta Pixel."
              },
              "data_freshness": {
                "upload_frequency": "hourly",
                "description": "The average frequency with which instances of this event are received through the Conversions API."
              }
            },
            {
              "event_name": "PageView",
              "event_potential_aly_acr_increase": {
                "description": "Similar advertisers who set up Conversions API for PageView events saw a median of 30.1% additional conversions reported versus those that only used Meta Pixel.",
                "percentage": 30.1
              }
            }
          ]
        }
        """;
}
