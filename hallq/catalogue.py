"""The city's one catalogue of items (统一事项, DESIGN §14): what the hub publishes and halls name by code.

A catalogue item is a hall config's item (`hallq.config.Item`: code, name, kind, promised days,
materials, fee, legal basis, conditions, process) plus the department that runs it. The hub serves
the catalogue as one canonical JSON document with a strong ETag; halls keep the last good copy.

In a hall config an item is named by code, the rest taken from the catalogue, either as a plain
string or as a mapping with `code` and hall-local fields:

    items:
      - sbk-replace                               # all from the catalogue
      - {code: hukou-move-in, promised_days: 3}   # the hall promises less than the city does

Only `LOCAL_FIELDS` (hallq/config.py, which resolves the codes) may differ at a hall: the name, kind,
legal basis, legal time limit, fee and materials are the city's (四级四同) and are changed in the
catalogue. A hall may still write a whole item (with its `name`) of its own; that item does not come
from the catalogue.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import yaml
from pydantic import Field, ValidationError, model_validator

from hallq.config import ConfigError, Item, Strict, validation_errors

# Fields of a hall config's service that mean the queue, not the item: dropped when a file in the
# shape of shared/data/service-catalogue.yaml (one service per item) is imported.
_QUEUE_FIELDS = ("avg_service_min", "daily_quota", "per_person_daily_limit", "hours", "last_ticket",
                 "target_wait_min", "description")  # fmt: skip


class CatalogueItem(Item):
    """One item of the city's catalogue: a hall config's item and the department that runs it."""

    department: str = Field(min_length=1, max_length=40)


class CatalogueHall(Strict):
    """A hall registered at the hub: where a case may be forwarded (转报)."""

    hall: str
    name: str
    kind: str


class Catalogue(Strict):
    items: list[CatalogueItem] = Field(default_factory=list)
    halls: list[CatalogueHall] = Field(default_factory=list)

    @model_validator(mode="after")
    def _codes_once(self) -> Catalogue:
        codes = [i.code for i in self.items]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"item code(s) {', '.join(twice)} appear more than once")
        return self

    def item(self, code: str) -> CatalogueItem | None:
        return next((i for i in self.items if i.code == code), None)

    def hall(self, hall: str) -> CatalogueHall | None:
        return next((h for h in self.halls if h.hall == hall), None)


def canonical_json(catalogue: Catalogue) -> bytes:
    """The one byte form the ETag is computed over: items by code, halls by id, keys sorted."""
    ordered = Catalogue(
        items=sorted(catalogue.items, key=lambda i: i.code), halls=sorted(catalogue.halls, key=lambda h: h.hall)
    )
    return orjson.dumps(ordered.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def etag_of(body: bytes) -> str:
    """A strong ETag: the same catalogue always gives the same tag, any change another."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def parse_catalogue(data: Any, source: str) -> list[CatalogueItem]:
    """Items from a YAML/JSON document: `{items: [...]}` (each with its department), a hall config's
    `{services: [{department, items: [...]}]}`, or `{services: [...]}` with one item per entry (the
    shape of shared/data/service-catalogue.yaml; each entry then needs a `code`). Every problem is
    reported at once as a ConfigError."""
    if not isinstance(data, dict) or not isinstance(data.get("items", data.get("services")), list):
        raise ConfigError(source, [("(top)", "expected a mapping with a list under items: or services:")])
    raw = list(_raw_items(data))
    problems: list[tuple[str, str]] = []
    items: list[CatalogueItem] = []
    for where, entry in raw:
        try:
            items.append(CatalogueItem.model_validate(entry))
        except ValidationError as exc:
            name = entry.get("name", "") if isinstance(entry, dict) else ""
            label = f"{where} ({name})" if name else where
            problems += [(f"{label}.{path}" if path != "(top)" else label, msg) for path, msg in validation_errors(exc)]
    codes = [i.code for i in items]
    problems += [
        ("items", f"item code {c!r} appears more than once") for c in sorted({c for c in codes if codes.count(c) > 1})
    ]
    if problems:
        raise ConfigError(source, problems)
    return items


def _raw_items(data: dict[str, Any]) -> Any:
    if isinstance(data.get("items"), list):
        yield from ((f"items[{n}]", entry) for n, entry in enumerate(data["items"]))
        return
    for s, service in enumerate(data["services"]):
        if not isinstance(service, dict):
            yield f"services[{s}]", service
        elif isinstance(service.get("items"), list):
            department = service.get("department")
            for n, entry in enumerate(service["items"]):
                merged = {"department": department, **entry} if isinstance(entry, dict) else entry
                yield f"services[{s}].items[{n}]", merged
        else:
            yield f"services[{s}]", {k: v for k, v in service.items() if k not in _QUEUE_FIELDS}


def load_catalogue_file(path: str) -> list[CatalogueItem]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(path, [("(file)", exc.strerror or str(exc))]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, [("(file)", f"not valid YAML: {exc}")]) from None
    return parse_catalogue(data, path)


def catalogue_from(source: str | None) -> Catalogue | None:
    """The catalogue named on a command line: the hub's URL (its base, or …/hub/catalogue), a hall's
    copy (catalogue.json) or a catalogue file; None for no source. ConfigError when it cannot be had."""
    if not source:
        return None
    if source.startswith(("http://", "https://")):
        return _fetch_catalogue(source)
    if source.endswith(".json"):
        try:
            with open(source, "rb") as handle:
                data = orjson.loads(handle.read())
            return Catalogue.model_validate(data.get("catalogue", data))
        except (OSError, ValueError, AttributeError, ValidationError) as exc:
            raise ConfigError(source, [("(file)", f"not a catalogue: {exc}")]) from None
    return Catalogue(items=load_catalogue_file(source))


def _fetch_catalogue(url: str) -> Catalogue:
    import httpx

    if not url.rstrip("/").endswith("/catalogue"):
        url = url.rstrip("/") + "/api/v1/hub/catalogue"
    try:
        response = httpx.get(url, timeout=10)
        response.raise_for_status()
        return Catalogue.model_validate_json(response.content)
    except (httpx.HTTPError, ValidationError) as exc:
        raise ConfigError(url, [("(catalogue)", f"the hub's catalogue cannot be read: {exc}")]) from None
