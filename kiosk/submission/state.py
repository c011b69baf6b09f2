"""The unfinished submission, kept on disk so a kiosk restart can offer to resume it (or abandon it).

One small JSON file in the kiosk's data dir: the case id, its access key, the mode and the item's name.
No name, ID number or phone: the dispatcher holds those. Written atomically (temp file + rename), so a
power cut leaves the old file or the new one, never half of one."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    case_id: str
    access: str
    mode: str = "submit"  # submit / correct
    item_name: str = ""


class DraftStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, draft: Draft) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        # 0600: the access key opens the case, so only the kiosk's user reads it
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(asdict(draft), out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)

    def load(self) -> Draft | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Draft(
                case_id=str(data["case_id"]),
                access=str(data["access"]),
                mode=str(data.get("mode", "submit")),
                item_name=str(data.get("item_name", "")),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable submission state %s (%s): ignored", self.path, exc)
            return None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
