"""newsbot: answers questions about news articles with cited passages (CLI and Slack)."""
