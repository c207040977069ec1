"""Many workspaces: bolt's OAuth install flow, installations in the state database.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, `/slack/install` starts Slack's OAuth flow and
`/slack/oauth_redirect` finishes it (oauth.v2.access); bolt's `SQLAlchemyInstallationStore` keeps
each workspace's bot token, and `SQLAlchemyOAuthStateStore` the flow's one-time states, in the same
database as the rest of the Slack state, so every process can answer every workspace.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine

from bot.settings import BotSettings
from bot.slack.store import create_tables
from indexing import secret

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600
# The bot scopes an install asks for: the manifest's (a test keeps them equal).
BOT_SCOPES = (
    "app_mentions:read",
    "assistant:write",
    "channels:history",
    "chat:write",
    "commands",
    "groups:history",
    "im:history",
    "mpim:history",
    "reactions:write",
)


class StoredInstallationAuthorize(Authorize):
    """Who the bot is in a workspace, from its stored installation alone.

    Bolt's `InstallationStoreAuthorize` calls auth.test on every request, before the listener can
    ack; the installation already holds the bot's token and ids (from oauth.v2.access and the
    auth.test bolt made at install time), so a database read is enough.
    """

    def __init__(self, store: SQLAlchemyInstallationStore):
        self.store = store

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        bot = self.store.find_bot(enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=context.is_enterprise_install)
        if bot is None:
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


class PrunedOAuthStateStore(SQLAlchemyOAuthStateStore):
    """bolt's state store, dropping expired states as it issues new ones: every unauthenticated GET of
    /slack/install stores one, and slack_sdk never deletes those that are not used."""

    def issue(self, *args: Any, **kwargs: Any) -> str:
        now = datetime.now(UTC).replace(tzinfo=None)  # slack_sdk stores naive UTC
        with self.engine.begin() as conn:
            conn.execute(self.oauth_states.delete().where(self.oauth_states.c.expire_at < now))
        return super().issue(*args, **kwargs)


def oauth_options(settings: BotSettings, engine: Engine) -> dict[str, Any]:
    """The `App(...)` arguments for many workspaces: OAuth settings and the authorize step."""
    client_id = settings.slack_client_id or ""
    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
    states = PrunedOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
    create_tables(installations.metadata, engine)
    create_tables(states.metadata, engine)
    oauth = OAuthSettings(
        client_id=client_id,
        client_secret=secret(settings.slack_client_secret),
        scopes=list(BOT_SCOPES),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )
    return {"oauth_settings": oauth, "authorize": StoredInstallationAuthorize(installations)}
