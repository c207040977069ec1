"""newsbot in Slack (slack-bolt): `newsbot slack` runs it; see README, "Use it in Slack".

Modules: `client` (settings checks, Web API client, auth.test), `app` (the bolt app and the
message listeners), `face` (the Protocol the listeners depend on), `commands` (/newsbot and the
buttons), `sources` (/newsbot sources: a channel's own sources), `assistant` (the AI-app side
panel), `replies` (one workspace's client and calls), `workers` (the bounded pool everything slow
runs in), `streaming` (an answer streamed as it is written), `blocks` (Block Kit rendering of an
Answer), `followups` (the follow-ups an answer suggests), `threads` (questions and thread history),
`texts` (what the bot says), `store` (the shared state database), `oauth` (many workspaces),
`asgi` (the HTTP endpoint: signature first), `serve` (uvicorn, worker processes, Socket Mode).
"""
