"""A hall's copy of the city's catalogue (统一事项): fetched from the hub at start and every few
minutes (a conditional GET: 304 while unchanged), the last good copy kept in a file beside the hall's
database, so the dispatcher starts and works with the line to the city down.

The hall config is read once at start: a catalogue that changed is used from the next start on
(the log says so); the copy on disk is always the newest the hall has seen.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
from pydantic import ValidationError

from hallq.catalogue import Catalogue

log = logging.getLogger(__name__)
REFRESH_S = 300.0
STOP_WAIT_S = 2.0
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
CACHE_NAME = "catalogue.json"


@dataclass(frozen=True)
class CachedCatalogue:
    etag: str
    catalogue: Catalogue


def cache_path(database: str, given: str | None = None) -> Path:
    """Beside an SQLite database; for PostgreSQL in var/; `given` (HALLQ_CATALOGUE_CACHE) names another file."""
    if given:
        return Path(given)
    if database.startswith("sqlite:///") and database != "sqlite:///:memory:":
        return Path(database.removeprefix("sqlite:///")).resolve().parent / CACHE_NAME
    return Path("var").resolve() / CACHE_NAME


def catalogue_url(hub_url: str) -> str:
    return hub_url.rstrip("/") + "/api/v1/hub/catalogue"


def read_cache(path: Path) -> CachedCatalogue | None:
    try:
        data = orjson.loads(path.read_bytes())
        return CachedCatalogue(etag=str(data["etag"]), catalogue=Catalogue.model_validate(data["catalogue"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
        log.error("the catalogue copy %s cannot be read (%s); fetching it again", path, exc)
        return None


def write_cache(path: Path, cached: CachedCatalogue) -> None:
    """Atomically: a crash mid-write leaves the previous copy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = orjson.dumps({"etag": cached.etag, "catalogue": cached.catalogue.model_dump(mode="json")})
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(body)
    os.replace(temporary, path)


def fetch(client: httpx.Client, hub_url: str, known: CachedCatalogue | None) -> CachedCatalogue | None:
    """The hub's catalogue, or None when it is the one already known (304). Raises httpx.HTTPError."""
    headers = {"If-None-Match": known.etag} if known else {}
    response = client.get(catalogue_url(hub_url), headers=headers)
    if response.status_code == 304 and known is not None:
        return None
    response.raise_for_status()
    try:
        catalogue = Catalogue.model_validate_json(response.content)
    except ValidationError as exc:
        raise httpx.DecodingError(f"the hub's catalogue does not validate: {exc}") from None
    return CachedCatalogue(etag=response.headers.get("etag", ""), catalogue=catalogue)


def refresh(hub_url: str, path: Path, client: httpx.Client | None = None) -> tuple[CachedCatalogue | None, bool]:
    """Ask the hub (conditionally), keep what it answers; with the hub away use the copy on disk.
    Returns (the catalogue, or None when there is none at all; whether it changed)."""
    known = read_cache(path)
    own = client or httpx.Client(timeout=TIMEOUT)
    try:
        fresh = fetch(own, hub_url, known)
    except httpx.HTTPError as exc:
        where = f"the copy of {path}" if known else "no copy yet"
        log.warning("the hub's catalogue is out of reach (%s); using %s", exc, where)
        return known, False
    finally:
        if client is None:
            own.close()
    if fresh is None:
        return known, False
    write_cache(path, fresh)
    return fresh, True


class CatalogueRefresher:
    """Fetches the catalogue every `every_s` in its own thread, never on a request's path."""

    def __init__(self, hub_url: str, path: Path, every_s: float = REFRESH_S) -> None:
        self.hub_url = hub_url
        self.path = path
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hallq-catalogue", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=STOP_WAIT_S)  # a daemon: a request to a hung hub does not hold up a shutdown

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT) as client:
            while not self._stop.wait(self.every_s):
                cached, changed = refresh(self.hub_url, self.path, client)
                if changed and cached is not None:
                    log.warning(
                        "the city's catalogue changed (%d items, ETag %s); items named by code take it "
                        "from the next start of the dispatcher",
                        len(cached.catalogue.items),
                        cached.etag,
                    )
