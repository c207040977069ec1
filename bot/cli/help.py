"""`newsbot --help` in the usual shape: `Usage: newsbot ask [OPTIONS] QUESTION`, each argument and option
with its help, and no type tags (`<bool>`, `{question}`) in the way."""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand

# -h as well as --help, on every command (typer's default is --help only).
CONTEXT = {"help_option_names": ["-h", "--help"]}


def _argument_name(param: TyperArgument) -> str:
    name = param.metavar or (param.name or "").upper()
    return f"{name}..." if param.nargs != 1 else name


class Command(TyperCommand):
    """A typer command whose usage line and help list arguments by name, like any Unix tool's.

    (typer's parameters are its own click copy's, so they are told apart by typer's classes.)"""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        params = self.get_params(ctx)
        arguments = [(_argument_name(p), p.help or "") for p in params if isinstance(p, TyperArgument)]
        options = [record for p in params if not isinstance(p, TyperArgument) and (record := p.get_help_record(ctx))]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
