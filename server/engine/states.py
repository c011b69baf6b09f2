"""The ticket lifecycle and the window states: one transition table each, and the domain errors.

Like h11's `_state.py`, every legal move is a row in a table; anything else is an `IllegalTransition`
whose message names the command and the state, in Chinese and English, so the API can pass it on as
a 409 that a clerk or a citizen can act on.

```
waiting ──call──▶ called ──(call-next / finish)──▶ done
   ▲                │  └──recall──▶ called (announced again, count+1)
   │                ├──no-show──▶ no_show ──rejoin (within N min)──▶ waiting (after K places)
   │                ├──park (挂起)──▶ parked ──call back──▶ called
   │                └──transfer (service or window)──▶ waiting (keeps number and original time)
   ├──── cancel (by citizen or supervisor) ──▶ cancelled
   └──── the day closes with it still waiting ──▶ expired (counted, never deleted)
```

The table decides: every handler, the day's close included, takes the new status from
`next_status`, so editing a row changes the behaviour and nothing else needs editing. The day's close
is the `expire` action on every ticket whose status has a row for it (waiting and parked expire, a
called one is finished); a quick serve (a walk-in issued and called at once) is its own action.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    waiting = "waiting"
    called = "called"
    done = "done"
    no_show = "no_show"
    parked = "parked"
    cancelled = "cancelled"
    expired = "expired"


class Action(StrEnum):
    """What a command does to a ticket; the names match the API paths."""

    call_next = "call-next"
    call_number = "call"  # 特呼: call a specific number
    call_back = "call-back"
    recall = "recall"
    no_show = "no-show"
    finish = "finish"
    park = "park"
    transfer = "transfer"
    cancel = "cancel"
    rejoin = "rejoin"
    quick_serve = "quick-serve"  # a walk-in issued and called at the window at once
    evaluate = "evaluation"
    expire = "expire"  # the day closes


class WindowState(StrEnum):
    open = "open"
    paused = "paused"
    closed = "closed"


class WindowAction(StrEnum):
    open = "open"
    pause = "pause"
    resume = "resume"
    close = "close"


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.waiting, Action.call_next): Status.called,
    (Status.waiting, Action.call_number): Status.called,
    (Status.waiting, Action.quick_serve): Status.called,
    (Status.waiting, Action.cancel): Status.cancelled,
    (Status.waiting, Action.expire): Status.expired,
    (Status.called, Action.recall): Status.called,
    (Status.called, Action.finish): Status.done,  # also when call-next or closing the window finishes it
    (Status.called, Action.no_show): Status.no_show,
    (Status.called, Action.park): Status.parked,
    (Status.called, Action.transfer): Status.waiting,
    (Status.called, Action.expire): Status.done,  # the day closes while it is served
    (Status.no_show, Action.rejoin): Status.waiting,
    (Status.no_show, Action.call_number): Status.called,  # the citizen came back; the clerk calls them
    (Status.parked, Action.call_back): Status.called,
    (Status.parked, Action.expire): Status.expired,
    (Status.done, Action.evaluate): Status.done,
}

WINDOW_TRANSITIONS: dict[tuple[WindowState, WindowAction], WindowState] = {
    (WindowState.closed, WindowAction.open): WindowState.open,
    (WindowState.open, WindowAction.open): WindowState.open,  # a clerk logs in again
    (WindowState.paused, WindowAction.open): WindowState.open,
    (WindowState.open, WindowAction.pause): WindowState.paused,
    (WindowState.paused, WindowAction.pause): WindowState.paused,  # a new reason
    (WindowState.paused, WindowAction.resume): WindowState.open,
    (WindowState.open, WindowAction.resume): WindowState.open,
    (WindowState.open, WindowAction.close): WindowState.closed,
    (WindowState.paused, WindowAction.close): WindowState.closed,
    (WindowState.closed, WindowAction.close): WindowState.closed,
}

STATUS_TEXT: dict[Status, str] = {
    Status.waiting: "正在等候 waiting",
    Status.called: "已叫号 called",
    Status.done: "已办结 done",
    Status.no_show: "已过号 a no-show",
    Status.parked: "已挂起 parked",
    Status.cancelled: "已取消 cancelled",
    Status.expired: "已过期 expired",
}

ACTION_TEXT: dict[Action, str] = {
    Action.call_next: "叫号 call",
    Action.call_number: "特呼 call by number",
    Action.call_back: "回呼 call back",
    Action.recall: "重呼 recall",
    Action.no_show: "过号 mark as no-show",
    Action.finish: "办结 finish",
    Action.park: "挂起 park",
    Action.transfer: "转移 transfer",
    Action.cancel: "取消 cancel",
    Action.rejoin: "重新排队 rejoin",
    Action.quick_serve: "即时办理 quick-serve",
    Action.evaluate: "评价 evaluate",
    Action.expire: "作废 expire",
}

WINDOW_STATE_TEXT: dict[WindowState, str] = {
    WindowState.open: "正在服务 open",
    WindowState.paused: "暂停服务 paused",
    WindowState.closed: "已关闭 closed",
}


class EngineError(Exception):
    """A command the hall's rules refuse; `str(error)` is the sentence to show. Nothing changed."""

    http_status = 409


class NotFound(EngineError):
    http_status = 404


class BadCommand(EngineError):
    """The command itself is malformed (bad score, unknown priority, duplicate ticket id)."""

    http_status = 422


class IllegalTransition(EngineError):
    """A command the ticket's (or window's) current state does not allow; names both."""

    def __init__(self, command: str, state: str, message: str) -> None:
        self.command = command
        self.state = state
        super().__init__(message)

    @classmethod
    def for_ticket(cls, action: Action, number: str, status: Status) -> IllegalTransition:
        zh_state, en_action = STATUS_TEXT[status].split()[0], ACTION_TEXT[action].split(" ", 1)[1]
        return cls(
            action.value,
            status.value,
            f"{number}号{zh_state}，不能{ACTION_TEXT[action].split()[0]}。"
            f" Cannot {en_action} ticket {number}: it is {status.value}.",
        )

    @classmethod
    def for_window(cls, action: WindowAction, window_name: str, state: WindowState) -> IllegalTransition:
        return cls(
            action.value,
            state.value,
            f"{window_name}{WINDOW_STATE_TEXT[state].split()[0]}，不能执行“{action.value}”。"
            f" Cannot {action.value} {window_name}: it is {state.value}.",
        )


class UnknownService(NotFound):
    def __init__(self, service: str) -> None:
        super().__init__(f"没有业务“{service}”。 There is no service {service!r} in this hall.")


class UnknownWindow(NotFound):
    def __init__(self, window: str) -> None:
        super().__init__(f"没有窗口“{window}”。 There is no window {window!r} in this hall.")


class UnknownTicket(NotFound):
    def __init__(self, ticket: str) -> None:
        super().__init__(f"今天没有号码“{ticket}”。 There is no ticket {ticket!r} today.")


class HallClosed(EngineError):
    def __init__(self, service_name: str, hours: str) -> None:
        super().__init__(
            f"{service_name}现在不取号，今天取号时间：{hours}。"
            f" {service_name} is not issuing tickets now; today's hours: {hours}."
        )


class QuotaExceeded(EngineError):
    def __init__(self, service_name: str, quota: int) -> None:
        super().__init__(
            f"{service_name}今天的{quota}个号已取完，请明天再来或网上办理。"
            f" All {quota} tickets for {service_name} today are taken; please come back tomorrow or apply online."
        )


class PersonLimitReached(EngineError):
    def __init__(self, service_name: str, limit: int) -> None:
        super().__init__(
            f"您今天已在本业务取号 {limit} 次，已达上限，请联系大厅工作人员。"
            f" You have taken {limit} tickets for {service_name} today, the daily limit; please ask the staff."
        )


class WindowNotOpen(EngineError):
    def __init__(self, window_name: str, state: WindowState) -> None:
        self.state = state
        super().__init__(
            f"{window_name}{WINDOW_STATE_TEXT[state].split()[0]}，开窗或恢复服务后才能叫号或转入。"
            f" {window_name} is {state.value}; it calls and takes transfers only when open."
        )


class NoCurrentTicket(EngineError):
    def __init__(self, window_name: str) -> None:
        super().__init__(f"{window_name}当前没有号码。 {window_name} has no current ticket; call one first.")


class RejoinTooLate(EngineError):
    def __init__(self, number: str, minutes: int) -> None:
        super().__init__(
            f"{number}号过号已超过{minutes}分钟，请重新取号。"
            f" Ticket {number} was missed more than {minutes} minutes ago; please take a new ticket."
        )


class AlreadyEvaluated(EngineError):
    def __init__(self, number: str) -> None:
        super().__init__(f"{number}号已经评价过了。 Ticket {number} has already been evaluated.")


def next_status(action: Action, number: str, status: Status) -> Status:
    """The status after `action`, or IllegalTransition naming the action and the current status."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition.for_ticket(action, number, status) from None


def has_transition(action: Action, status: Status) -> bool:
    """Whether the table has a row for `action` from `status` (the day's close skips the others)."""
    return (status, action) in TRANSITIONS


def next_window_state(action: WindowAction, window_name: str, state: WindowState) -> WindowState:
    """The window state after `action`, or IllegalTransition naming the action and the state."""
    try:
        return WINDOW_TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition.for_window(action, window_name, state) from None
