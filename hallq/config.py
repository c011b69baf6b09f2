"""The hall configuration: one YAML file, validated by pydantic, every error reported at once.

The schema is shared by every process: the dispatcher builds its engine rules from it, devices read
the parts they need (names, windows, the announcement template). It holds no I/O but `load_hall_config`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class ConfigError(Exception):
    """A configuration file that cannot be used; `errors` lists every problem as (path, message)."""

    def __init__(self, source: str, errors: list[tuple[str, str]]) -> None:
        self.source = source
        self.errors = errors
        lines = [f"{source}: {len(errors)} error(s)"] + [f"  {path}: {msg}" for path, msg in errors]
        super().__init__("\n".join(lines))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(Strict):
    """A half-open interval of local time within one day, written "08:30-12:00"."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        match = _RANGE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a time range like 08:30-12:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 == 24 and m1:
            raise ValueError(f"{text!r}: 24:00 is the latest time")
        start = dt.time(h1 % 24, m1)
        end = dt.time.max if h2 == 24 else dt.time(h2, m2)
        if end <= start:
            raise ValueError(f"{text!r} ends before it starts")
        return cls(start=start, end=end)

    def contains(self, moment: dt.time) -> bool:
        return self.start <= moment < self.end or (self.end == dt.time.max and moment >= self.start)

    def __str__(self) -> str:
        end = "24:00" if self.end == dt.time.max else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


def _ranges(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [TimeRange.parse(v) if isinstance(v, str) else v for v in value]
    return value


TimeRanges = Annotated[list[TimeRange], Field(default_factory=list)]


class WeekHours(Strict):
    """Opening hours per weekday. Extended hours (错时延时: lunch time, evenings) are extra ranges."""

    mon: TimeRanges
    tue: TimeRanges
    wed: TimeRanges
    thu: TimeRanges
    fri: TimeRanges
    sat: TimeRanges
    sun: TimeRanges

    _parse = field_validator(*WEEKDAYS, mode="before")(_ranges)

    def for_weekday(self, weekday: int) -> list[TimeRange]:
        ranges: list[TimeRange] = getattr(self, WEEKDAYS[weekday])
        return ranges


class HallKind(StrEnum):
    center = "center"  # type: ignore[assignment]  # shadows str.center; the value is the contract
    sub_center = "sub_center"
    town = "town"
    village = "village"


class Hall(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=40)
    kind: HallKind = HallKind.center
    parent: str | None = None
    timezone: str = "Asia/Shanghai"
    hours: WeekHours
    holidays: list[dt.date] = Field(default_factory=list, description="法定节假日: closed")
    workdays: list[dt.date] = Field(
        default_factory=list, description="调休 make-up working days: open with `workday_hours`"
    )
    workday_hours: TimeRanges
    around_the_clock: bool = Field(False, description="open at every hour (24-hour zone, demo)")
    phone_tickets: bool = Field(False, description="线上取号: citizens take a ticket on the phone page /q/{hall}")
    address: str = ""
    phone: str = ""
    notice: str = Field("", description="scrolling notice on the hall board")
    announce_template: str = "请{number}号到{window}办理"
    status_base_url: str = Field(
        "http://127.0.0.1:8000", description="where phones reach the dispatcher (QR codes on tickets)"
    )

    _parse = field_validator("workday_hours", mode="before")(_ranges)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("announce_template")
    @classmethod
    def _template_fields(cls, value: str) -> str:
        try:
            value.format(number="A001", window="1号窗口", service="社保")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template may use only {{number}}, {{window}}, {{service}}: {exc}") from exc
        return value

    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ServiceKind(StrEnum):
    instant = "instant"  # 即办件: decided at the window
    promised = "promised"  # 承诺件: decided within promised working days


class MaterialForm(StrEnum):
    original = "original"  # 原件
    copy = "copy"  # 复印件


class Material(Strict):
    name: str = Field(min_length=1)
    form: MaterialForm = MaterialForm.original
    copies: int = Field(1, ge=1, le=20)
    deferrable: bool = Field(False, description="may be supplied later under 容缺受理")
    note: str = ""


class Item(Strict):
    """A service item (事项) with its handbook (标准化手册): the seven published items (七公开)."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")
    name: str = Field(min_length=1)
    kind: ServiceKind = ServiceKind.instant
    promised_days: int = Field(0, ge=0, le=365)
    legal_days: int | None = Field(None, ge=0, le=365, description="法定办结时限")
    materials: list[Material] = Field(default_factory=list)
    fee: str = "不收费"
    legal_basis: str = ""
    conditions: str = ""
    process: str = "收件 → 受理 → 审批 → 出件"
    defer_days: int = Field(5, ge=1, le=60, description="working days to supply 容缺 materials")

    @model_validator(mode="after")
    def _promised_needs_days(self) -> Item:
        if self.kind == ServiceKind.promised and self.promised_days < 1:
            raise ValueError("a promised (承诺件) item needs promised_days of 1 or more")
        return self


class Service(Strict):
    """A queue: tickets carry its code letter(s) as prefix (A012)."""

    code: str = Field(pattern=r"^[A-Z]{1,2}$", description="ticket prefix, also the service's key")
    name: str = Field(min_length=1, max_length=24)
    department: str = Field(min_length=1)
    kind: ServiceKind = ServiceKind.instant
    promised_days: int = Field(0, ge=0, le=365)
    avg_service_min: float = Field(8, gt=0, le=240)
    daily_quota: int | None = Field(None, ge=1, description="tickets per day; none = unlimited")
    per_person_daily_limit: int | None = Field(3, ge=1, description="tickets per ID card per day")
    hours: WeekHours | None = Field(None, description="overrides the hall's hours")
    last_ticket: dt.time | None = Field(None, description="no tickets after this local time")
    items: list[Item] = Field(default_factory=list)
    description: str = ""
    target_wait_min: int | None = Field(
        None, ge=1, le=480, description="wait target in minutes; none: the hall's stats.target_wait_min"
    )


class WindowKind(StrEnum):
    comprehensive = "comprehensive"  # 综合受理
    output = "output"  # 综合出件
    specialist = "specialist"  # 专窗


class Window(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
    name: str = Field(min_length=1, max_length=16, description="as announced: 3号窗口")
    kind: WindowKind = WindowKind.comprehensive
    services: list[str] = Field(min_length=1, description="service codes, in order of preference")
    zone: str = Field("", description="floor or area; voice callers and boards can follow one zone")
    printer: str | None = Field(
        None,
        max_length=200,
        description="the window's receipt printer as a device URL (tcp://host:9100, usb://…, file:///…): "
        "收件通知书 and 交接表 recorded at this window print there",
    )


class PriorityRules(Strict):
    max_consecutive_priority: int = Field(2, ge=1, le=20)
    elderly_age: int = Field(60, ge=50, le=100)
    green_reasons: list[str] = Field(default_factory=lambda: ["elderly", "disabled", "pregnant", "military"])
    appointment_early_min: int = Field(30, ge=0, le=240)
    appointment_late_min: int = Field(15, ge=0, le=240)


class QueueRules(Strict):
    rejoin_within_min: int = Field(30, ge=0, le=480, description="a no-show may rejoin within this")
    rejoin_after_places: int = Field(3, ge=0, le=100, description="rejoins behind this many")
    ewma_alpha: float = Field(0.2, gt=0, le=1)
    recent_calls: int = Field(10, ge=1, le=10)


class StatsRules(Strict):
    """What the statistics judge a hall by (DESIGN §12), and when the live view raises an alert."""

    target_wait_min: int = Field(20, ge=1, le=480, description="a wait within this is served in time")
    pause_alert_min: int = Field(15, ge=1, le=480, description="a window paused longer raises an alert")
    waiting_per_window_alert: int = Field(
        10, ge=1, le=1000, description="more waiting per open window than this: 请增开窗口"
    )


class Role(StrEnum):
    clerk = "clerk"
    supervisor = "supervisor"
    admin = "admin"
    department = "department"  # 部门审批人员: accepts and decides its department's cases behind the window


class Department(Strict):
    """A department working behind the comprehensive window (前台综合受理、后台分类审批): its staff
    accept and decide the cases of the services whose `department` names it."""

    name: str = Field(min_length=1, max_length=24, description="as the services' `department` spell it")
    staff: list[str] = Field(default_factory=list, description="usernames (role department) of its staff")


class BundleField(Strict):
    """A field of the one form (一表式) asked once for every part of a 一件事."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: str = Field(min_length=1, max_length=24)


class BundlePart(Strict):
    item: str
    after: list[str] = Field(default_factory=list, description="前置: items of this bundle decided first")


class Bundle(Strict):
    """一件事 (集成服务): items of several departments taken in one submission with one form, decided in
    parallel (并联) or in order (前置 → 后置), with one promise and one result at the output window."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=32)
    promised_days: int = Field(ge=1, le=365, description="the one promise, in working days from 收件")
    fields: list[BundleField] = Field(default_factory=list)
    parts: list[BundlePart] = Field(min_length=2)

    @model_validator(mode="after")
    def _order(self) -> Bundle:
        """A part waits only for parts listed before it: the order has no cycle by construction."""
        seen: set[str] = set()
        for part in self.parts:
            if part.item in seen:
                raise ValueError(f"bundle {self.code}: item {part.item!r} appears more than once")
            late = [a for a in part.after if a not in seen]
            if late:
                raise ValueError(f"bundle {self.code}: {part.item} waits for {late}, which must be listed before it")
            seen.add(part.item)
        return self


class BackOfficeRules(Strict):
    """The deadlines between the comprehensive window and the departments (材料交接、结果交接)."""

    noon: dt.time = Field(dt.time(12, 0), description="paper received before this is a morning's")
    morning_handover_by: dt.time = Field(dt.time(15, 0), description="morning's paper reaches the department by")
    afternoon_handover_by: dt.time = Field(
        dt.time(10, 0), description="afternoon's paper reaches the department by this time the next working day"
    )
    result_fix_days: int = Field(1, ge=0, le=10, description="working days to correct a refused result")
    receipt_return_days: int = Field(1, ge=0, le=10, description="working days to return the 送达回执")


class DeviceKind(StrEnum):
    kiosk = "kiosk"
    board = "board"
    terminal = "terminal"
    voice = "voice"
    window_screen = "window_screen"
    keypad_bridge = "keypad_bridge"
    evaluator = "evaluator"
    bridge = "bridge"


class DeviceCredential(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")
    kind: DeviceKind
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 hex of the device token")
    windows: list[str] = Field(default_factory=list, description="windows a bridge may command")


class UserCredential(Strict):
    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
    password_hash: str = Field(pattern=r"^\$argon2", description="argon2 hash (hallq user hash)")
    role: Role = Role.clerk
    display_name: str = Field("", description="masked form shown on screens, e.g. 王*")


class Credentials(Strict):
    devices: list[DeviceCredential] = Field(default_factory=list)
    users: list[UserCredential] = Field(default_factory=list)


class ServerSection(Strict):
    """Dispatcher options kept with the hall (the command line and HALLQ_* environment override them)."""

    host: str | None = None
    port: int | None = Field(None, ge=0, le=65535)
    database: str | None = Field(None, description="SQLAlchemy URL: sqlite:///path or postgresql://…")
    mqtt: str | None = Field(None, description="broker URL; leave out to run the embedded broker")


class NetworkSection(Strict):
    """The hall's uplink to the city's hub (DESIGN §14): where it ships its events and with which token
    (`hallq hub add-hall` printed it). `--hub` / `--hub-token` and HALLQ_HUB / HALLQ_HUB_TOKEN override."""

    hub: str | None = Field(None, pattern=r"^https?://", description="the hub's base URL, e.g. https://hub.city.gov.cn")
    token: str | None = Field(None, min_length=16, max_length=256, description="this hall's uplink token")
    retry_max_s: float = Field(
        60.0,
        ge=1.0,
        le=3600.0,
        description="the longest wait between two tries while the hub is away (backoff with jitter up to it)",
    )
    heartbeat_s: float = Field(
        20.0,
        ge=1.0,
        le=600.0,
        description="with nothing to ship, say hello this often (well inside the hub's online window, 60 s)",
    )


class EvaluationReason(Strict):
    """One reason a citizen may tick with a rating (GB/T 39734 评价内容); the code goes to the platform."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    label: str = Field(min_length=1, max_length=24)


def _reasons(*pairs: tuple[str, str]) -> list[EvaluationReason]:
    return [EvaluationReason(code=code, label=label) for code, label in pairs]


_GOOD_REASONS = (
    ("attitude", "服务态度好"),
    ("efficiency", "办事效率高"),
    ("skill", "业务熟练"),
    ("guide", "办事指南清楚"),
    ("process", "流程简便"),
    ("facility", "环境设施便利"),
)
_FAIR_REASONS = (
    ("waiting", "等候时间较长"),
    ("guide", "指引不够清楚"),
    ("process", "流程有待简化"),
    ("facility", "设施有待改善"),
)
_BAD_REASONS = (
    ("attitude", "服务态度差"),
    ("efficiency", "办事效率低"),
    ("skill", "业务不熟练"),
    ("guide", "办事指南不清楚"),
    ("repeat-visits", "多次跑动"),
    ("materials", "材料要求繁琐"),
    ("facility", "环境设施不便"),
    ("other", "其他"),
)


def _default_reasons() -> dict[int, list[EvaluationReason]]:
    return {
        5: _reasons(*_GOOD_REASONS),
        4: _reasons(*_GOOD_REASONS),
        3: _reasons(*_FAIR_REASONS),
        2: _reasons(*_BAD_REASONS),
        1: _reasons(*_BAD_REASONS),
    }


# The fields a sink's URL template may name: the hall, and the record's codes (never personal data).
SINK_URL_FIELDS = ("hall", "areacode", "deptcode", "taskcode", "projectno", "recordid", "evaluationid")
_URL_FIELD = re.compile(r"\{([^{}]*)\}")


class SinkKind(StrEnum):
    none = "none"
    file = "file"
    http = "http"


class EvaluationSink(Strict):
    """Where every rating (and its later state) goes for the provincial platform (DESIGN.md §11):
    `none`, `file` (JSON lines appended to `path`) or `http` (each record POSTed to `url`)."""

    kind: SinkKind = SinkKind.none
    path: str | None = Field(None, description="file: the JSON-lines file records are appended to")
    url: str | None = Field(None, description="http: URL template, e.g. https://hcp.example.gov.cn/{areacode}/pj")
    token_env: str | None = Field(
        None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="http: environment variable holding the bearer token"
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="http: one request's time limit")
    retry_max_s: float = Field(60.0, ge=0.01, le=3600, description="longest wait between two attempts")

    @model_validator(mode="after")
    def _target(self) -> EvaluationSink:
        problems: list[str] = []
        if self.kind == SinkKind.file and not self.path:
            problems.append("sink kind file needs path: the file the records are appended to")
        if self.kind == SinkKind.http:
            problems += _url_template_problems(self.url)
        if self.kind != SinkKind.http and self.url:
            problems.append(f"url is for the http sink; this sink is {self.kind.value}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _url_template_problems(url: str | None) -> list[str]:
    if not url:
        return ["sink kind http needs url: the platform's address, e.g. https://hcp.example.gov.cn/{areacode}/pj"]
    if not url.startswith(("http://", "https://")):
        return [f"sink url must start with http:// or https://, not {url[:30]!r}"]
    unknown = [name for name in _URL_FIELD.findall(url) if name not in SINK_URL_FIELDS]
    if unknown:
        return [f"sink url names unknown field(s) {', '.join(map(repr, unknown))}; known: {', '.join(SINK_URL_FIELDS)}"]
    return []


class EvaluationRules(Strict):
    """好差评 (DESIGN.md §11): the rating window, the rectification deadlines in working days, the reasons."""

    window_days: int = Field(7, ge=1, le=90, description="days after the service in which it may be rated")
    verify_days: int = Field(1, ge=0, le=30, description="核实: working days after the 差评")
    rectify_days: int = Field(15, ge=1, le=60, description="整改: working days after the 差评")
    call_back_days: int = Field(3, ge=1, le=30, description="回访: working days after 整改")
    reasons: dict[int, list[EvaluationReason]] = Field(
        default_factory=_default_reasons, description="reason options per level, 5 非常满意 … 1 非常不满意"
    )
    area_code: str = Field("", max_length=12, description="行政区划代码 for the platform's export")
    department_code: str = Field("", max_length=32, description="实施机构代码 for the platform's export")
    sink: EvaluationSink = Field(default_factory=EvaluationSink)

    @field_validator("sink", mode="before")
    @classmethod
    def _sink_by_name(cls, value: Any) -> Any:
        """`sink: none` is short for `sink: {kind: none}`."""
        return {"kind": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _levels(self) -> EvaluationRules:
        problems = [f"reasons: level {level} is not one of 1..5" for level in self.reasons if not 1 <= level <= 5]
        for level, options in self.reasons.items():
            problems += _duplicates(f"reasons[{level}]", [o.code for o in options])
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def reason_labels(self, level: int) -> dict[str, str]:
        return {o.code: o.label for o in self.reasons.get(level, [])}


# What an SMS text may name (never a name or ID number: the citizen knows their own ticket).
NOTIFY_TEXT_FIELDS = ("hall_name", "number", "ahead", "window_name", "service_name")
# What the SMS gateway's URL may name, and what its body fields may name besides.
SMS_URL_FIELDS = ("hall", "key")
SMS_BODY_FIELDS = ("hall", "key", "phone", "text")


class SmsKind(StrEnum):
    none = "none"
    file = "file"
    http = "http"


class SmsGateway(Strict):
    """Where the phone queue's messages go (DESIGN.md §13, `notify.sms`): `none`, `file` (one JSON line
    per message appended to `path`, for halls without a gateway) or `http` (a generic SMS gateway: each
    message sent to `url`, its body built from `fields`, as JSON or a form)."""

    kind: SmsKind = SmsKind.none
    path: str | None = Field(None, description="file: the JSON-lines file messages are appended to")
    url: str | None = Field(None, description="http: URL template; may name {hall} and {key}, never the phone")
    method: Literal["POST", "PUT"] = "POST"
    body: Literal["json", "form"] = Field("json", description="http: how `fields` are sent")
    fields: dict[str, str] = Field(
        default_factory=lambda: {"mobile": "{phone}", "content": "{text}", "outId": "{key}"},
        description="http: body field → template over {phone}, {text}, {key} (the message's id), {hall}",
    )
    token_env: str | None = Field(
        None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="http: environment variable holding the bearer token"
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="http: one request's time limit")
    retry_max_s: float = Field(60.0, ge=0.01, le=3600, description="longest wait between two attempts")

    @model_validator(mode="after")
    def _target(self) -> SmsGateway:
        problems: list[str] = []
        if self.kind == SmsKind.file and not self.path:
            problems.append("sms kind file needs path: the file the messages are appended to")
        if self.kind == SmsKind.http:
            problems += _sms_http_problems(self.url, self.fields)
        if self.kind != SmsKind.http and self.url:
            problems.append(f"url is for the http gateway; this one is {self.kind.value}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _sms_http_problems(url: str | None, fields: dict[str, str]) -> list[str]:
    if not url:
        return ["sms kind http needs url: the gateway's address, e.g. https://sms.example.gov.cn/send"]
    if not url.startswith(("http://", "https://")):
        return [f"sms url must start with http:// or https://, not {url[:30]!r}"]
    problems = [
        f"sms url names {name!r}; it may name only {', '.join(SMS_URL_FIELDS)} (the phone and text go in the body)"
        for name in _URL_FIELD.findall(url)
        if name not in SMS_URL_FIELDS
    ]
    for key, template in fields.items():
        problems += [
            f"sms fields.{key} names unknown {name!r}; known: {', '.join(SMS_BODY_FIELDS)}"
            for name in _URL_FIELD.findall(template)
            if name not in SMS_BODY_FIELDS
        ]
    used = "".join(fields.values())
    problems += [f"sms fields must send {{{name}}}" for name in ("phone", "text") if f"{{{name}}}" not in used]
    return problems


class NotifyRules(Strict):
    """The phone queue's messages (DESIGN.md §13): "还有N位" when `ahead` reaches this many, and the call
    with its window, to the phone the citizen left for the ticket."""

    ahead: int = Field(3, ge=0, le=50, description="send when this many or fewer are ahead; 0: only the call")
    ahead_text: str = Field("【{hall_name}】{number}号还有{ahead}位，请回到大厅等候叫号。", max_length=140)
    call_text: str = Field("【{hall_name}】请{number}号到{window_name}办理。", max_length=140)
    sms: SmsGateway = Field(default_factory=SmsGateway)

    @field_validator("sms", mode="before")
    @classmethod
    def _sms_by_name(cls, value: Any) -> Any:
        """`sms: none` is short for `sms: {kind: none}`."""
        return {"kind": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _texts(self) -> NotifyRules:
        problems = [
            f"{what} names unknown {name!r}; known: {', '.join(NOTIFY_TEXT_FIELDS)}"
            for what, text in (("ahead_text", self.ahead_text), ("call_text", self.call_text))
            for name in _URL_FIELD.findall(text)
            if name not in NOTIFY_TEXT_FIELDS
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class NoShowBlock(Strict):
    """爽约 rule: `missed` bookings not checked in within `within_days` → no booking for `block_days`."""

    missed: int = Field(3, ge=1, le=50)
    within_days: int = Field(90, ge=1, le=365)
    block_days: int = Field(30, ge=1, le=365)


class AppointmentRules(Strict):
    """预约 (DESIGN.md §13): the share of each window's time kept for bookings, the slot length, how far
    ahead a day may be booked, the 爽约 rule, and how often a phone may book (per address, per person)."""

    enabled: bool = Field(True, description="false: no slots are offered, the booking page says so")
    share: float = Field(0.3, ge=0, le=1, description="share of the serving windows' time kept for bookings")
    slot_min: int = Field(30, ge=10, le=240, description="slot length in minutes")
    days_ahead: int = Field(7, ge=0, le=60, description="today and this many days after it may be booked")
    no_show_block: NoShowBlock = Field(default_factory=NoShowBlock)
    per_address_per_hour: int = Field(10, ge=1, le=10000, description="phone bookings per client address")
    per_person_per_day: int = Field(5, ge=1, le=100, description="booking attempts per ID number")

    @field_validator("slot_min")
    @classmethod
    def _slot_fits_a_day(cls, value: int) -> int:
        if (24 * 60) % value:
            raise ValueError(f"slot_min {value} must divide a day (e.g. 15, 20, 30, 60)")
        return value


class HallConfig(Strict):
    hall: Hall
    services: list[Service] = Field(min_length=1)
    windows: list[Window] = Field(min_length=1)
    priority: PriorityRules = PriorityRules()
    queue: QueueRules = QueueRules()
    stats: StatsRules = StatsRules()
    credentials: Credentials = Credentials()
    evaluation: EvaluationRules = Field(default_factory=EvaluationRules)
    notify: NotifyRules = Field(default_factory=NotifyRules)
    appointments: AppointmentRules = Field(default_factory=AppointmentRules)
    departments: list[Department] = Field(default_factory=list)
    back_office: BackOfficeRules = Field(default_factory=BackOfficeRules)
    bundles: list[Bundle] = Field(default_factory=list, description="一件事: items of several departments at once")
    server: ServerSection | None = None
    network: NetworkSection | None = None

    @model_validator(mode="after")
    def _references(self) -> HallConfig:
        problems: list[str] = []
        problems += _duplicates("services", [s.code for s in self.services])
        problems += _duplicates("windows", [w.id for w in self.windows])
        problems += _duplicates("items", [i.code for s in self.services for i in s.items])
        problems += _duplicates("credentials.devices", [d.id for d in self.credentials.devices])
        problems += _duplicates("credentials.users", [u.username for u in self.credentials.users])
        known = {s.code for s in self.services}
        window_ids = {w.id for w in self.windows}
        for w in self.windows:
            problems += [f"window {w.id} serves unknown service {c!r}" for c in w.services if c not in known]
        for d in self.credentials.devices:
            problems += [f"device {d.id} names unknown window {x!r}" for x in d.windows if x not in window_ids]
        served = {c for w in self.windows for c in w.services}
        problems += [f"service {s.code} ({s.name}) has no window" for s in self.services if s.code not in served]
        problems += self._department_problems()
        problems += _duplicates("bundles", [b.code for b in self.bundles])
        items = {i.code for s in self.services for i in s.items}
        problems += [
            f"bundle {b.code} names unknown item {p.item!r}"
            for b in self.bundles
            for p in b.parts
            if p.item not in items
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _department_problems(self) -> list[str]:
        problems = _duplicates("departments", [d.name for d in self.departments])
        problems += _duplicates("departments.staff", [u for d in self.departments for u in d.staff])
        named = {s.department for s in self.services}
        problems += [f"department {d.name!r} has no service" for d in self.departments if d.name not in named]
        listed = {u for d in self.departments for u in d.staff}
        problems += [
            f"user {u.username} has role department but no department lists it in its staff"
            for u in self.credentials.users
            if u.role == Role.department and u.username not in listed
        ]
        return problems

    def bundle(self, code: str) -> Bundle | None:
        return next((b for b in self.bundles if b.code == code), None)

    def department_of(self, username: str) -> str | None:
        """The department whose staff lists `username` (None: not department staff)."""
        return next((d.name for d in self.departments if username in d.staff), None)

    def has_back_office(self, department: str) -> bool:
        """Whether the department accepts and decides its cases itself (it is configured with staff)."""
        return any(d.name == department and d.staff for d in self.departments)

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def target_wait_s(self, code: str) -> int:
        """The service's target wait in seconds (its own, else the hall's `stats.target_wait_min`)."""
        service = self.service(code)
        minutes = service.target_wait_min if service and service.target_wait_min else self.stats.target_wait_min
        return minutes * 60

    def window(self, window_id: str) -> Window | None:
        return next((w for w in self.windows if w.id == window_id), None)

    def item(self, code: str) -> tuple[Service, Item] | None:
        return next(((s, i) for s in self.services for i in s.items if i.code == code), None)

    def is_open(self, moment: dt.datetime, service: Service | None = None) -> bool:
        """Whether the hall (or a service) takes tickets at an aware `moment`."""
        if self.hall.around_the_clock:
            return True
        local = moment.astimezone(self.hall.tz())
        ranges = self.hours_on(local.date(), service)
        if service and service.last_ticket and local.time() >= service.last_ticket:
            return False
        return any(r.contains(local.time()) for r in ranges)

    def hours_on(self, day: dt.date, service: Service | None = None) -> list[TimeRange]:
        """Opening ranges on a local date, holidays and make-up working days (调休) applied."""
        if day in self.hall.holidays:
            return []
        week = service.hours if service and service.hours else self.hall.hours
        if day in self.hall.workdays:
            return list(self.hall.workday_hours or self.hall.hours.mon)
        return week.for_weekday(day.weekday())


def _duplicates(what: str, keys: list[str]) -> list[str]:
    seen: set[str] = set()
    dupes = sorted({k for k in keys if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
    return [f"{what}: {k!r} appears more than once" for k in dupes]


def _error_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top)"


def validation_errors(exc: ValidationError) -> list[tuple[str, str]]:
    return [(_error_path(tuple(e["loc"])), e["msg"].removeprefix("Value error, ")) for e in exc.errors()]


# Items named by code (统一事项, hallq/catalogue.py): what a hall may set for itself beside an item's
# code; everything else is the city's catalogue's.
LOCAL_FIELDS = ("promised_days", "defer_days", "conditions", "process")


class ItemSource(Protocol):
    """The city's catalogue as the config sees it (hallq.catalogue.Catalogue)."""

    def item(self, code: str) -> Item | None: ...


def names_items_by_code(data: Any) -> bool:
    """Whether a raw hall config names any item by code only (so it needs the catalogue)."""
    services = data.get("services") if isinstance(data, dict) else None
    return any(
        _is_reference(entry)
        for service in (services if isinstance(services, list) else [])
        if isinstance(service, dict) and isinstance(service.get("items"), list)
        for entry in service["items"]
    )


def _is_reference(entry: Any) -> bool:
    return isinstance(entry, str) or (isinstance(entry, dict) and "code" in entry and "name" not in entry)


def resolve_items(data: Any, catalogue: ItemSource | None) -> tuple[Any, list[tuple[str, str]]]:
    """The raw hall config with every item named by code replaced by the catalogue's item (hall-local
    fields applied), and the problems: codes the catalogue lacks, fields a hall may not set. An item
    that cannot be resolved is left out, so the rest of the file is still checked."""
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        return data, []
    problems: list[tuple[str, str]] = []
    services = []
    for s, service in enumerate(data["services"]):
        if not isinstance(service, dict) or not isinstance(service.get("items"), list):
            services.append(service)
            continue
        items = []
        for n, entry in enumerate(service["items"]):
            if not _is_reference(entry):
                items.append(entry)
                continue
            resolved, problem = _resolve(entry, catalogue)
            if problem:
                problems.append((f"services[{s}].items[{n}]", problem))
            else:
                items.append(resolved)
        services.append({**service, "items": items})
    return {**data, "services": services}, problems


def _resolve(entry: str | dict[str, Any], catalogue: ItemSource | None) -> tuple[dict[str, Any], str]:
    local = {"code": entry} if isinstance(entry, str) else dict(entry)
    code = str(local.pop("code"))
    if catalogue is None:
        return {}, f"item {code!r} is named by code but there is no catalogue (give the hub, or --catalogue)"
    item = catalogue.item(code)
    if item is None:
        return {}, f"item code {code!r} is not in the city's catalogue"
    foreign = sorted(k for k in local if k not in LOCAL_FIELDS)
    if foreign:
        return {}, (
            f"item {code!r}: {', '.join(foreign)} is the catalogue's (四级四同), change it there; "
            f"a hall may set only {', '.join(LOCAL_FIELDS)}"
        )
    base = item.model_dump(mode="json", exclude={"department"})
    days = local.get("promised_days")
    if isinstance(days, int) and days > item.promised_days:
        return {}, f"item {code!r}: promised_days {days} is longer than the catalogue's {item.promised_days}"
    return {**base, **local}, ""


def parse_hall_config(data: Any, source: str = "<config>", catalogue: ItemSource | None = None) -> HallConfig:
    """Validate a hall config; items named by code take the rest from `catalogue` (hallq/catalogue.py).
    Codes the catalogue lacks are reported with every other error at once."""
    if not isinstance(data, dict):
        raise ConfigError(source, [("(top)", "the file must be a mapping with hall, services, windows")])
    data, problems = resolve_items(data, catalogue)
    try:
        config = HallConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, problems + validation_errors(exc)) from None
    if problems:
        raise ConfigError(source, problems)
    return config


def read_hall_yaml(path: str | Path) -> Any:
    """The raw YAML of a hall config (ConfigError for an unreadable file or bad YAML)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [("(file)", exc.strerror or str(exc))]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ConfigError(source, [(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None


def load_hall_config(path: str | Path, catalogue: ItemSource | None = None) -> HallConfig:
    """Read and validate a hall config; raises ConfigError listing every problem with its path."""
    return parse_hall_config(read_hall_yaml(path), str(path), catalogue)


def example_config_path() -> Path:
    """The shipped demo hall (config/hall.example.yaml), found next to the package or installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "config" / "hall.example.yaml", here / "data" / "hall.example.yaml"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("config/hall.example.yaml is missing from this installation")
