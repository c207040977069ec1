"""newsbot in Slack (slack-bolt): `newsbot slack` runs it; see README, "Use it in Slack".

Modules: `client` (settings checks, Web API client, auth.test), `app` (the bolt listeners),
`blocks` (Block Kit rendering of an Answer), `threads` (questions and thread history),
`store` (answers by id, feedback, handled events), `serve` (HTTP server and Socket Mode).
"""
