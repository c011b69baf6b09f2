"""One rating as the provincial platform's record (DESIGN.md §11): the export's fields, built from the
rating's view and its rectification order's row. The monthly export and the platform feed share it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hallq.config import EvaluationRules
from server.evaluations.workflow import STATUS_LABELS, OrderStatus


def record_of(
    rating: dict[str, Any], order: dict[str, Any] | None, rules: EvaluationRules, zone: dt.tzinfo
) -> dict[str, Any]:
    """`rating` as EvaluationService.rating_view shows it, `order` the rectifications row (or None)."""
    status = OrderStatus(order["status"]) if order else None
    return {
        "projectno": rating["number"],
        "taskcode": rating["task_code"],
        "taskname": rating["task_name"],
        "pf": rating["pf"],
        "satisfaction": rating["score"],
        "satisfactionname": rating["level"],
        "reasons": [r["code"] for r in rating["reasons"]],
        "comment": rating["comment"],
        "assesstime": rating["rated_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        "areacode": rules.area_code,
        "deptcode": rules.department_code,
        "window": rating["window"] or "",
        "staffid": rating["clerk"] or "",
        "realname": 1 if rating["real_name"] else 0,
        "valid": 1 if rating["counts"] else 0,
        "verification": order["facts"] if order else "",
        "rectification": order["measures"] if order else "",
        "rectifyresult": STATUS_LABELS[status] if status else "",
        "callbackresult": _call_back(order),
        "followup": 1 if rating["round"] else 0,
    }


def _call_back(order: dict[str, Any] | None) -> str:
    if order is None or order["satisfied"] is None:
        return ""
    return "满意" if order["satisfied"] else "不满意"
