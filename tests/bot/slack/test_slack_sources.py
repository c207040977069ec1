"""A channel's own sources (`/newsbot sources`), over real HTTP: bound by an admin on one process, obeyed
by every process sharing the state database (a SQLite file, or a real PostgreSQL server), through the
filter inside retrieval; channels with no binding see everything."""

from __future__ import annotations

from bot.slack.sources import NOT_ADMIN
from indexing import bundled_seeds_dir
from testsupport.slack_requests import (
    ADMIN,
    QUESTION,
    ack_text,
    assert_cited_answer,
    fresh_channel,
    in_thread,
    send_event,
    slash,
    user_message,
)


def _ask(server, fake, channel: str) -> dict:
    event = user_message(fake, channel, f"<@UBOT> {QUESTION}")
    assert send_event(server, event)[0] == 200
    (reply,) = fake.wait_for("chat.postMessage", in_thread(channel, event["ts"]))
    return reply


def test_a_channel_bound_to_its_sources_answers_from_them_alone_on_every_process(two_processes, fake, tmp_path):
    b, c = two_processes
    channel, elsewhere = fresh_channel(), fresh_channel()
    politics = tmp_path / "politics"  # a folder with no indexed article
    politics.mkdir()
    # Only admins bind, list or unbind; the refusal is the command's (ephemeral) acknowledgement.
    assert ack_text(slash(b, fake, f"sources add {politics}", user="U1", channel=channel)[1]) == NOT_ADMIN
    assert ack_text(slash(b, fake, "sources", user="U1", channel=channel)[1]) == NOT_ADMIN
    assert "no sources of its own" in ack_text(slash(b, fake, "sources", user=ADMIN, channel=channel)[1])

    status, body, elapsed = slash(b, fake, f"sources add {politics}", user=ADMIN, channel=channel)
    assert status == 200 and elapsed < 3 and f"Bound `{politics}`" in ack_text(body)
    # The other process answers in that channel from its sources alone: none holds the answer, and it says so.
    refused = _ask(c, fake, channel)
    assert "this channel's sources" in refused.params["text"] and str(politics) in refused.params["text"]
    assert "Wendy" not in refused.params["text"]
    # So does /newsbot in that channel; a channel with no binding still sees every article.
    assert slash(c, fake, QUESTION, channel=channel)[0] == 200
    (ephemeral,) = fake.wait_for("chat.postEphemeral", lambda call: call.params.get("channel") == channel)
    assert "this channel's sources" in ephemeral.params["text"]
    assert_cited_answer(_ask(c, fake, elsewhere), "Wendy R.")

    # Bound to the seeds' folder as well (on the other process): answered from the seed article.
    seeds = bundled_seeds_dir().resolve()
    assert f"Bound `{seeds}`" in ack_text(slash(c, fake, f"sources add {seeds}", user=ADMIN, channel=channel)[1])
    listing = ack_text(slash(b, fake, "sources", user=ADMIN, channel=channel)[1])
    assert listing.index(str(politics)) < listing.index(str(seeds))
    answered = [call for call in fake.calls_to("chat.postMessage") if call.params.get("channel") == channel]
    reply = _ask(b, fake, channel)
    assert reply not in answered
    assert_cited_answer(reply, "Wendy R.")

    # Unbound again, the channel sees everything; an unknown source or folder is a clear reply.
    assert "Unbound" in ack_text(slash(b, fake, f"sources remove {politics}", user=ADMIN, channel=channel)[1])
    assert "Unbound" in ack_text(slash(c, fake, f"sources remove {seeds}", user=ADMIN, channel=channel)[1])
    assert "no sources of its own" in ack_text(slash(c, fake, "sources", user=ADMIN, channel=channel)[1])
    assert "is not one of this channel's sources" in ack_text(slash(b, fake, f"sources remove {seeds}", user=ADMIN, channel=channel)[1])
    missing = ack_text(slash(b, fake, f"sources add {tmp_path / 'nowhere'}", user=ADMIN, channel=channel)[1])
    assert "neither a folder on newsbot's machine nor a feed URL" in missing


def test_a_feed_url_is_bound_as_slack_sends_it(two_processes, fake):
    b, _ = two_processes
    channel = fresh_channel()
    url = "https://feeds.example.com/markets.xml"
    status, body, _ = slash(b, fake, f"sources add <{url}>", user=ADMIN, channel=channel)  # Slack wraps a URL in <>
    assert status == 200 and f"Bound `{url}`" in ack_text(body)
    assert "already one of this channel's sources" in ack_text(slash(b, fake, f"sources add {url}", user=ADMIN, channel=channel)[1])
    assert url in ack_text(slash(b, fake, "sources", user=ADMIN, channel=channel)[1])
