"""`python -m bot.cli`: the same as the `newsbot` command."""

from bot.cli import main

main()
