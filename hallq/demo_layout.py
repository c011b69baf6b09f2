"""Where `hallq demo` puts the board, the kiosk and the terminal on one desktop.

In a hall each runs fullscreen on its own screen; the demo shares one desktop, so the windows are
sized to it and placed side by side: the kiosk (portrait, as it stands in a hall) on the right, the
board top left, the clerk's terminal under the board, and the LED strips over the windows (drawn by
`hallq window-screen --show`) in what is left beside the board. On a desktop too small for that the
terminal overlaps the board rather than shrinking below the size its buttons need.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_DESKTOP = (1920, 1080)  # where the desktop's size cannot be asked (no xdpyinfo, Wayland)
GAP = 40  # room for title bars and a panel
KIOSK_MAX = (900, 1600)
BOARD_MAX = (1280, 720)
TERMINAL_MAX = (1024, 700)
TERMINAL_MIN = (640, 480)  # hallq terminal refuses smaller
LEDS_MIN = (200, 200)  # hallq window-screen --show refuses smaller
LEDS_MAX = (720, 900)


@dataclass(frozen=True)
class Placement:
    size: tuple[int, int]
    position: tuple[int, int]

    @property
    def size_arg(self) -> str:
        return f"{self.size[0]}x{self.size[1]}"

    @property
    def position_arg(self) -> str:
        return f"{self.position[0]},{self.position[1]}"


def demo_layout(desktop: tuple[int, int] | None, board_orientation: str = "landscape") -> dict[str, Placement]:
    width, height = desktop or DEFAULT_DESKTOP
    usable = height - GAP
    kiosk_h = min(KIOSK_MAX[1], usable)
    kiosk_w = min(KIOSK_MAX[0], kiosk_h * 9 // 16)
    kiosk = Placement((kiosk_w, kiosk_h), (width - kiosk_w, 0))
    room = max(TERMINAL_MIN[0], width - kiosk_w - GAP // 2)  # what is left of the kiosk
    if board_orientation == "portrait":
        board_h = min(BOARD_MAX[0], usable)
        board = Placement((board_h * 9 // 16, board_h), (0, 0))
        terminal_w = max(TERMINAL_MIN[0], min(TERMINAL_MAX[0], room - board.size[0] - GAP // 2))
        terminal = Placement(
            (terminal_w, max(TERMINAL_MIN[1], min(TERMINAL_MAX[1], usable))), (board.size[0] + GAP // 2, 0)
        )
        below = terminal.position[1] + terminal.size[1] + GAP
        leds_h = max(LEDS_MIN[1], min(LEDS_MAX[1], usable - below))
        leds = Placement((min(LEDS_MAX[0], terminal.size[0]), leds_h), (terminal.position[0], below))
        return {"board": board, "kiosk": kiosk, "terminal": terminal, "leds": leds}
    terminal_h = max(TERMINAL_MIN[1], min(TERMINAL_MAX[1], usable - GAP - BOARD_MAX[1]))
    board_h = max(BOARD_MAX[1] // 2, min(BOARD_MAX[1], usable - GAP - terminal_h))
    board_w = min(room, board_h * 16 // 9)
    board = Placement((board_w, board_w * 9 // 16), (0, 0))
    terminal = Placement((min(TERMINAL_MAX[0], room), terminal_h), (0, board.size[1] + GAP))
    leds_x = board_w + GAP // 2
    leds_w = max(LEDS_MIN[0], min(LEDS_MAX[0], kiosk.position[0] - GAP // 2 - leds_x))
    leds = Placement((leds_w, max(LEDS_MIN[1], board.size[1])), (min(leds_x, width - leds_w), 0))
    return {"board": board, "kiosk": kiosk, "terminal": terminal, "leds": leds}
