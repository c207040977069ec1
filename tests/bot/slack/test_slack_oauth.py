"""Many workspaces, end to end over HTTP: two workspaces install the app through bolt's OAuth flow
(/slack/install, then /slack/oauth_redirect, which calls the stand-in's oauth.v2.access), and
each one's events are answered with its own bot token; a workspace that never installed is not."""

from __future__ import annotations

import re
import time
import urllib.request
from urllib.parse import urlencode

import pytest

from bot.chain import NewsBot
from bot.slack.app import SlackFace
from bot.slack.client import connect
from bot.slack.oauth import BOT_SCOPES
from bot.slack.serve import SlackHttpServer
from indexing.errors import ConfigError
from testsupport.slack_requests import QUESTION, assert_cited_answer, in_thread, make_settings, send_event, user_message

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-never-logged"
WORKSPACES = {"TA": ("xoxb-team-a-secret", "UBOTA", "BBOTA"), "TB": ("xoxb-team-b-secret", "UBOTB", "BBOTB")}


def get(url: str, cookie: str = "") -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode(), response.headers.get("Set-Cookie", "")


@pytest.fixture
def multi(seed_index, fake, tmp_path):
    for team, (token, user, bot) in WORKSPACES.items():
        fake.add_workspace(token, team, f"Team {team}", user, bot)
    settings = make_settings(tmp_path, fake, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET)
    face = SlackFace(NewsBot(settings, index=seed_index), connect(settings))
    server = SlackHttpServer(face, "127.0.0.1", 0).start()
    yield server
    server.stop()
    face.close()


def install(server: SlackHttpServer, fake, team: str) -> None:
    """What a user's browser does: the install page (a state, in a cookie too), Slack's consent, the redirect."""
    status, page, cookie = get(server.base + "/slack/install")
    assert status == 200
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert authorize, page
    link = authorize.group(1).replace("&amp;", "&")
    state = re.search(r"[?&]state=([^&]+)", link).group(1)  # type: ignore[union-attr]
    assert f"client_id={CLIENT_ID}" in link and "scope=" in link
    code = f"code-{team}-{time.monotonic_ns()}"
    fake.add_install(code, WORKSPACES[team][0], CLIENT_ID, CLIENT_SECRET)
    status, done, _ = get(server.base + "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}), cookie.split(";")[0])
    assert status == 200 and "Thank you" in done, done


def test_two_workspaces_install_and_each_is_answered_with_its_own_token(multi, fake, caplog):
    for team in WORKSPACES:
        install(multi, fake, team)
    assert {c.params.get("code", "").split("-")[1] for c in fake.calls_to("oauth.v2.access")} >= set(WORKSPACES)

    for team, (token, bot_user, _) in WORKSPACES.items():
        channel = f"C{team}"
        event = user_message(fake, channel, f"<@{bot_user}> {QUESTION}")
        status, _, elapsed = send_event(multi, event, team=team, bot_user=bot_user)
        assert status == 200 and elapsed < 3
        (answer,) = fake.wait_for("chat.postMessage", in_thread(channel, event["ts"]))
        assert answer.headers["Authorization"] == f"Bearer {token}"
        assert_cited_answer(answer, "Wendy R.")
        assert QUESTION == answer.params["metadata"]["event_payload"]["question"]  # the mention of *its* bot was removed

    stranger = user_message(fake, "CTZ", f"<@UBOTZ> {QUESTION}")
    send_event(multi, stranger, team="TZ", bot_user="UBOTZ")
    time.sleep(0.5)
    assert not fake.calls_to("chat.postMessage", in_thread("CTZ", stranger["ts"]))
    for secret in (CLIENT_SECRET, *(token for token, _, _ in WORKSPACES.values())):
        assert secret not in caplog.text


def test_the_install_asks_for_the_manifests_scopes():
    import yaml

    from testsupport.corpora import REPO

    manifest = yaml.safe_load((REPO / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_half_an_oauth_configuration_is_one_line(fake, tmp_path):
    with pytest.raises(ConfigError, match="set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"):
        connect(make_settings(tmp_path, fake, SLACK_CLIENT_ID=CLIENT_ID))
