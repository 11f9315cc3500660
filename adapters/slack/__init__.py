"""Slack adapter (slack-bolt): `/f1` command, mentions, DMs, thread follow-ups, highlights.

`run_slack(settings, dispatcher, stop=...)` runs it until `stop` is set:
Socket Mode when `SLACK_APP_TOKEN` is set, otherwise HTTP mode (Events API on
`SLACK_HOST:SLACK_PORT`, signatures checked with `SLACK_SIGNING_SECRET`).
`SlackPoster` posts Track Pulse highlights (a `ChannelPoster`).

Names are loaded on first use (`adapters.lazy`), so reading `adapters.slack.settings` does not
import slack-bolt and aiohttp.
"""

from __future__ import annotations

from adapters.lazy import lazy_attributes

_WHERE = {
    "SLACK_LIMITS": "responder",
    "SlackAdapter": "app",
    "SlackPoster": "poster",
    "SlackResponder": "responder",
    "SlackSettings": "settings",
    "escape": "render",
    "make_web_client": "app",
    "run_slack": "run",
    "to_mrkdwn": "render",
}
__all__ = sorted(_WHERE)

__getattr__ = lazy_attributes(__name__, _WHERE)
