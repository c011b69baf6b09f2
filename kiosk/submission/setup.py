"""Builds the submission flow for a running kiosk from its runtime (kiosk/runtime.py): the receipt
printer on the kiosk's printer, the locker and document source from their URLs, the state file in the
kiosk's data dir. Called once by kiosk/app.py."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kiosk.submission.devices import open_locker, receipt_printer_for
from kiosk.submission.documents import DocumentSource, DocumentSourceError, open_documents
from kiosk.submission.presenter import Post, SubmissionOptions, SubmissionPresenter
from kiosk.submission.state import DraftStore
from kiosk.tasks import Tasks

log = logging.getLogger(__name__)
STATE_FILE = "submission-draft.json"


def build_submission(host: Any, runtime: Any, tasks: Tasks, post: Post) -> SubmissionPresenter:
    urls: dict[str, str | None] = getattr(runtime, "urls", {}) or {}
    documents: DocumentSource | None = None
    try:
        documents = open_documents(urls.get("documents"), demo=bool(getattr(runtime, "demo", False)))
    except DocumentSourceError as exc:
        log.error("%s — the kiosk takes 容缺 promises only until this is fixed", exc)
    locker = None
    try:
        locker = open_locker(urls.get("locker"))
    except ValueError as exc:  # a bad locker URL: said once, the flow goes on without a locker
        log.error("locker: %s", exc)
    data_dir: Path | None = getattr(runtime, "data_dir", None)
    idle = max(60.0, float(getattr(runtime.options, "idle_timeout_s", 30.0)) * 2)
    return SubmissionPresenter(
        host,
        runtime.client,
        tasks,
        post,
        printer=receipt_printer_for(runtime.printer),
        documents=documents,
        locker=locker,
        drafts=DraftStore(data_dir / STATE_FILE) if data_dir else None,
        options=SubmissionOptions(idle_timeout_s=idle, retry_s=float(getattr(runtime.options, "retry_s", 3.0))),
    )
