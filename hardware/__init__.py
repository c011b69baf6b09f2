"""hallq's hardware drivers (DESIGN.md section 8; docs/hardware.md for installers).

One module per device kind, each a small interface, a real driver and a simulator behind the same
seam; every device is opened by URL (`hardware.urls`):

- `hardware.idcard`: resident ID card reader — `ReaderLoop(url, on_card, on_status)`, `IdCard`,
  the pure SAM frame parser; `read_one_card(url)`.
- `hardware.printer`: ESC/POS ticket printer — `open_printer(url)` → `TicketPrinter`
  (`print_ticket`, `print_receipt`, `paper_status`), pure layouts `render_ticket`/`render_receipt`.
- `hardware.scanner`: QR/barcode scanner — `open_scanner(url).start(on_scan)`.
- `hardware.led`, `hardware.keypad`, `hardware.evaluator`, `hardware.locker`: RS-485 devices —
  `open_led(url).show(text, blink)`, `open_keypad(url).listen(on_key)`,
  `open_evaluator(url).request_rating(ticket)`, `open_locker(url).open(slot)`; Modbus RTU codec in
  `hardware.modbus`.
- `hardware.sim`: simulators — `get_simulator(kind, name)` for `sim:` URLs, and
  `hardware.sim.endpoints` to serve one on a pty or a TCP port (`hallq devices simulate`).

This package imports nothing else of hallq's: the device programs adapt its types to theirs.
"""
