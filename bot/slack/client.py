"""The Web API client and the start-up checks: which mode, are the tokens there, does Slack accept them.

Every failure here is a one-line `ConfigError` naming the setting and what to do; tokens never
appear in messages or logs (slack_sdk redacts the Authorization header in its own debug logs).
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.settings import BotSettings
from indexing import ConfigError, secret

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SlackIdentity:
    """Who the bot is, from auth.test: its user id (mentions, own messages) and bot id."""

    user_id: str
    bot_id: str
    team_id: str
    team: str
    user: str


def slack_mode(settings: BotSettings) -> str:
    """ "oauth" (HTTP, many workspaces) with SLACK_CLIENT_ID/SECRET, "socket" when SLACK_APP_TOKEN is set,
    else "http"; raises when a required secret is missing."""
    if settings.slack_client_id or secret(settings.slack_client_secret):
        return _oauth_mode(settings)
    if not secret(settings.slack_bot_token):
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack app's "
            "'OAuth & Permissions' page (see README, 'Use it in Slack')"
        )
    if secret(settings.slack_app_token):
        return "socket"
    if not secret(settings.slack_signing_secret):
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's Signing Secret ('Basic Information' page), "
            "or set SLACK_APP_TOKEN (xapp-...) to use Socket Mode"
        )
    return "http"


def _oauth_mode(settings: BotSettings) -> str:
    if not (settings.slack_client_id and secret(settings.slack_client_secret)):
        raise ConfigError(
            "set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET ('Basic Information' → 'App Credentials') to serve many "
            "workspaces, or neither to use the one SLACK_BOT_TOKEN"
        )
    if secret(settings.slack_app_token):
        raise ConfigError("many workspaces (SLACK_CLIENT_ID) are served over HTTP, with the install flow: unset SLACK_APP_TOKEN")
    if not secret(settings.slack_signing_secret):
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's Signing Secret ('Basic Information' page)")
    return "oauth"


def web_client(settings: BotSettings, token: str | None) -> WebClient:
    """The Web API client: the configured base URL, retries on 429 (Retry-After) and on dropped connections.

    Bolt copies its base URL, timeout and retry handlers into each request's client, whatever the token."""
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=3)],
    )


def authenticate(client: WebClient, settings: BotSettings) -> SlackIdentity:
    """auth.test with the bot token: the bot's identity, or a one-line ConfigError."""
    try:
        result = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown error") if exc.response is not None else "unknown error"
        raise ConfigError(
            f"Slack refused SLACK_BOT_TOKEN (auth.test: {error}); copy the Bot User OAuth Token (xoxb-...) "
            "from 'OAuth & Permissions' and reinstall the app if it was revoked"
        ) from None
    except OSError as exc:  # URLError, timeouts, refused connections
        raise ConfigError(
            f"cannot reach Slack's Web API at {settings.slack_api_url} ({exc}); check SLACK_API_URL and the network"
        ) from None
    if not result.get("bot_id"):
        raise ConfigError("SLACK_BOT_TOKEN is not a bot token (auth.test returned no bot_id); use the xoxb-... token")
    return SlackIdentity(
        user_id=str(result.get("user_id", "")),
        bot_id=str(result.get("bot_id", "")),
        team_id=str(result.get("team_id", "")),
        team=str(result.get("team", "")),
        user=str(result.get("user", "")),
    )


@dataclass(frozen=True)
class SlackConnection:
    """Everything checked at start-up: the mode, the Web API client and the bot's identity (one workspace)."""

    settings: BotSettings
    mode: str  # "socket" | "http" | "oauth"
    client: WebClient
    identity: SlackIdentity | None  # None with many workspaces: each request says which bot it is

    @property
    def multi_workspace(self) -> bool:
        return self.mode == "oauth"


def connect(settings: BotSettings) -> SlackConnection:
    """Check the settings and the bot token (auth.test) before anything heavy loads."""
    mode = slack_mode(settings)
    if mode == "oauth":
        return SlackConnection(settings, mode, web_client(settings, None), None)
    client = web_client(settings, secret(settings.slack_bot_token))
    return SlackConnection(settings, mode, client, authenticate(client, settings))
