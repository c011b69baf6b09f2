"""Everything a kiosk process needs besides its window: settings, the dispatcher client, the
devices (real or simulated), speech and the MQTT status. Built once in `run()` and passed down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hallq.device import DeviceSettings
from hallq.fonts import FontMissing, cjk_fonts
from hallq.voices import VoiceError, choose_voice
from kiosk.api import DispatcherClient
from kiosk.devices import CardReader, NoCardReader, NoPrinter, NoScanner, Scanner, TicketPrinter
from kiosk.identity import CardIdentity
from kiosk.presenter import KioskOptions
from kiosk.speech import EspeakSynthesizer, SilentSpeaker, Speaker, WorkerSpeaker

log = logging.getLogger(__name__)


class KioskSetupError(Exception):
    """The kiosk cannot start (no CJK font, bad device URL …); the message says what to do."""


def find_cjk_font(family: str = "Noto Sans CJK SC", style: str = "") -> str:
    """A single-face Simplified-Chinese font file for Kivy (hallq.fonts); a clear error if there is none."""
    try:
        fonts = cjk_fonts(family)
    except FontMissing as exc:
        raise KioskSetupError(str(exc)) from exc
    return fonts.bold if style == "Bold" else fonts.regular


@dataclass
class KioskRuntime:
    client: DispatcherClient
    printer: TicketPrinter
    card_reader: CardReader
    scanner: Scanner
    speaker: Speaker
    options: KioskOptions
    timezone: str = "Asia/Shanghai"
    demo: bool = False
    bus: Any = None
    urls: dict[str, str | None] = field(default_factory=dict)
    data_dir: Path | None = None  # the kiosk's own files (the unfinished submission's state)
    _paper_out: bool = False

    def report_status(self, detail: dict[str, Any]) -> None:
        """The presenter's device detail (printer paper, dispatcher reachability, card reader) → MQTT."""
        if self.bus is not None:
            self.bus.set_status_detail(detail)

    def start_devices(
        self,
        on_card: Callable[[CardIdentity], None],
        on_card_error: Callable[[str], None],
        on_scan: Callable[[str], None],
        on_reader_state: Callable[[str], None] | None = None,
    ) -> None:
        if on_reader_state is not None and hasattr(self.card_reader, "on_state"):
            self.card_reader.on_state = on_reader_state  # unplugged / back: shown in the device status
        self.card_reader.start(on_card, on_card_error)
        self.scanner.start(on_scan)
        if self.bus is not None:
            self.bus.start()

    def close(self) -> None:
        for action in (self.card_reader.stop, self.scanner.stop, self.printer.close, self.speaker.close):
            try:
                action()
            except Exception:
                log.debug("closing failed", exc_info=True)
        if self.bus is not None:
            self.bus.stop()
        self.client.close()

    # -- demo controls (simulated hardware only: hardware/'s simulators behind the real drivers) ------
    def demo_present_card(self, age: int) -> None:
        simulator = self._hardware_sim("idcard")
        if simulator is None:
            return
        from hardware.idcard import sample_card

        simulator.present(sample_card("elderly" if age >= 60 else "adult"))
        threading.Timer(1.5, simulator.remove).start()  # the citizen takes the card back

    def demo_card_error(self) -> None:
        simulator = self._hardware_sim("idcard")
        if simulator is None:
            return
        from hardware.idcard import sample_card

        simulator.inject("garbled")
        simulator.present(sample_card("adult"))

        def done() -> None:
            simulator.remove()
            simulator.clear_faults()

        threading.Timer(1.5, done).start()

    def demo_scan(self, text: str) -> None:
        simulator = self._hardware_sim("scanner")
        if simulator is not None and hasattr(simulator, "scan"):
            simulator.scan(text)

    def demo_toggle_paper(self) -> bool:
        simulator = self._hardware_sim("printer")
        if simulator is None:
            return self._paper_out
        self._paper_out = not self._paper_out
        if self._paper_out:
            simulator.inject("paper_out")
        else:
            simulator.clear_faults()
        return self._paper_out

    def _hardware_sim(self, kind: str) -> Any:
        url = self.urls.get(kind) or ""
        if not url.startswith("sim:"):
            log.warning("demo controls need a simulated %s (sim:), not %s", kind, url or "none")
            return None
        from hardware.sim import get_simulator
        from hardware.urls import parse_device_url

        return get_simulator(kind, parse_device_url(url).path)


def open_printer(url: str | None) -> TicketPrinter:
    """The hardware/ ESC/POS driver for `url` (`sim:NAME`: on hardware/'s simulated printer)."""
    if not url:
        return NoPrinter()
    try:
        from kiosk.hardware_adapters import EscposPrinter

        return EscposPrinter(url)
    except ImportError as exc:
        raise KioskSetupError(
            f"printer {url}: the hardware driver is not installed ({exc}): install hallq[kiosk]"
        ) from exc
    except ValueError as exc:  # DeviceUrlError
        raise KioskSetupError(str(exc)) from exc


def open_card_reader(url: str | None) -> CardReader:
    """The hardware/ SAM reader loop for `url` (`sim:NAME`: on hardware/'s simulated reader)."""
    if not url:
        return NoCardReader()
    try:
        from hardware.idcard import ReaderLoop  # noqa: F401  (the driver and pyserial are installed)
        from hardware.urls import parse_device_url

        parse_device_url(url)
    except ImportError as exc:
        raise KioskSetupError(f"ID card reader {url}: the hardware driver is not installed ({exc})") from exc
    except ValueError as exc:
        raise KioskSetupError(str(exc)) from exc
    from kiosk.hardware_adapters import SamCardReader

    return SamCardReader(url)


def open_scanner(url: str | None) -> Scanner:
    if not url:
        return NoScanner()
    try:
        from kiosk.hardware_adapters import HardwareScanner

        return HardwareScanner(url)
    except ImportError as exc:
        raise KioskSetupError(f"scanner {url}: the hardware driver is not installed ({exc})") from exc
    except ValueError as exc:
        raise KioskSetupError(str(exc)) from exc


PROBES = ("您的号码是A零一二，前面还有5人", "请选择要办理的业务，绿色通道，打印机缺纸，请拍下二维码")


def make_speaker(enabled: bool, wav_dir: str | None = None) -> Speaker:
    """espeak-ng in a worker thread, with the Mandarin voice the voice caller's check picks too
    (hallq.voices: the voice that reads every probe word in Mandarin), else `cmn-latn-pinyin`."""
    if not enabled:
        return SilentSpeaker()
    voice = "cmn-latn-pinyin"
    try:
        voice = choose_voice(PROBES).voice.file
    except (VoiceError, OSError) as exc:  # no espeak-ng, no Mandarin voice: the default, and say so
        log.info("voice check unavailable (%s): using %s", exc, voice)
    return WorkerSpeaker(EspeakSynthesizer(voice=voice, wav_dir=wav_dir))


def build_runtime(settings: DeviceSettings, options: dict[str, Any]) -> KioskRuntime:
    """From `DeviceSettings` (+ the kiosk's own options): the client, the devices, speech, MQTT."""
    sim = "sim:" if settings.demo else None
    urls = {"printer": settings.printer or sim, "idcard": settings.idcard or sim, "scanner": settings.scanner or sim}
    # the 24-hour submission flow (kiosk/submission): document locker and document scanner / camera
    urls["locker"] = settings.locker or sim
    # (--documents / --data-dir, or HALLQ_DOCUMENTS / HALLQ_DATA_DIR, merged into the settings by main())
    urls["documents"] = str(settings.extra.get("documents") or "") or sim
    data_dir = Path(str(settings.extra.get("data_dir") or Path.home() / ".local" / "state" / "hallq" / settings.device))
    client = DispatcherClient(settings.server, settings.hall, settings.auth_headers())
    bus = None
    try:
        from hallq.bus import BusClient

        bus = BusClient.for_device(settings)
    except ImportError as exc:
        log.warning("no MQTT bus client (%s): device status is not published", exc)
    except ValueError as exc:
        raise KioskSetupError(f"--mqtt {settings.mqtt}: {exc}") from exc
    return KioskRuntime(
        client=client,
        printer=open_printer(urls["printer"]),
        card_reader=open_card_reader(urls["idcard"]),
        scanner=open_scanner(urls["scanner"]),
        speaker=make_speaker(options.get("speech", True), options.get("speech_wav")),
        options=KioskOptions(
            idle_timeout_s=options.get("idle_timeout", 30.0),
            elderly_age=options.get("elderly_age", 60),
            device=settings.device,
        ),
        demo=settings.demo,
        bus=bus,
        urls=urls,
        data_dir=data_dir,
    )
