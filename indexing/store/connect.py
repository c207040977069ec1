"""Reaching Chroma: a server when CHROMA_HOST is set, else the embedded folder under the data dir
(through indexing.store.owner, so that one process has it open and the others ask that one)."""

from __future__ import annotations

from typing import Any

from indexing.errors import StoreError
from indexing.private import private_dir, private_tree
from indexing.settings import IndexSettings, secret
from indexing.store.owner import EmbeddedChroma, embedded_chroma
from indexing.store.turns import Turns


def open_client(settings: IndexSettings) -> Any:
    """A Chroma client: embedded under the data dir, or a server when CHROMA_HOST is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    token = secret(settings.chroma_auth_token)
    auth: dict[str, Any] = {}
    if token and settings.chroma_host:  # Chroma's token auth: `Authorization: Bearer <token>` on every request
        auth = {"chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider", "chroma_client_auth_credentials": token}
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False, **auth)
    try:
        private_dir(settings.data_dir)  # 0700, and this process's files 0600 from now on (docs/security.md)
    except OSError as exc:
        raise StoreError(
            f"data dir {settings.data_dir} is not writable ({exc.strerror or exc}); set NEWSBOT_DATA_DIR to a writable folder"
        ) from exc
    if settings.chroma_host:
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:
            if _refused_credentials(exc):
                raise StoreError(
                    f"the Chroma server at {settings.location} refused newsbot's credentials; set CHROMA_AUTH_TOKEN to its token "
                    "(Chroma's token auth, or the proxy's in front of it)"
                ) from None
            raise StoreError(
                f"cannot reach the Chroma server at {settings.location} ({exc.__class__.__name__}); "
                "start it with `chroma run --path DIR --host HOST --port PORT` or unset CHROMA_HOST"
            ) from exc
        return client
    path = settings.data_dir / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        private_tree(path)  # an index an older newsbot made 0755/0644
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise StoreError(
            f"data dir {settings.data_dir} is not writable ({exc.strerror or exc}); set NEWSBOT_DATA_DIR to a writable folder"
        ) from exc

    def open_persistent() -> Any:
        try:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise StoreError(f"cannot open the index at {path}: {exc}") from exc

    # One process opens the folder; the others ask it (Chroma's PersistentClient is not process-safe).
    return embedded_chroma(path, open_persistent)


def client_turns(client: Any) -> Turns:
    """Who goes first, questions or writes (indexing.store.turns): an embedded folder's are the process's,
    shared with the calls its owner runs for other processes; a server client's are its store's own."""
    return client.turns if isinstance(client, EmbeddedChroma) else Turns()


def _refused_credentials(exc: Exception) -> bool:
    """Chroma's client raises a bare ValueError (or its AuthError) with the server's 401/403 body."""
    text = f"{exc.__class__.__name__} {exc}".lower()
    return any(word in text for word in ("unauthorized", "forbidden", "autherror", "authentication", "permission"))
