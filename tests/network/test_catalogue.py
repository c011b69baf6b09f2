"""统一事项: the hub publishes the city's catalogue with a strong ETag; a hall names items by code and
starts from its own copy with the hub away; check-config names every code the catalogue lacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from hallq.config import example_config_path
from tests.network.forward_support import by_code, example_items, import_catalogue
from tests.network.halls import CityHall
from tests.support.hub import start_hub


def test_catalogue_is_served_with_a_strong_etag_and_304_while_unchanged(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    try:
        done = import_catalogue(hub, example_config_path())
        assert done.returncode == 0, done.stderr
        first = httpx.get(f"{hub.api}/hub/catalogue", timeout=30)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        assert sorted(i["code"] for i in first.json()["items"]) == sorted(example_items())
        assert {i["department"] for i in first.json()["items"]} >= {"人社", "不动产登记"}

        again = httpx.get(f"{hub.api}/hub/catalogue", headers={"If-None-Match": etag}, timeout=30)
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag

        # the city edits one item and publishes again: a new tag, the old one no longer matches
        data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
        data["services"][0]["items"][0]["fee"] = "工本费 20 元"
        edited = tmp_path / "edited.yaml"
        edited.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        assert import_catalogue(hub, edited).returncode == 0
        changed = httpx.get(f"{hub.api}/hub/catalogue", headers={"If-None-Match": etag}, timeout=30)
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert next(i for i in changed.json()["items"] if i["code"] == "sbk-replace")["fee"] == "工本费 20 元"
    finally:
        hub.stop()


def test_a_bad_catalogue_file_is_refused_whole_with_every_problem(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    try:
        assert import_catalogue(hub, example_config_path()).returncode == 0
        before = httpx.get(f"{hub.api}/hub/catalogue", timeout=30).headers["etag"]
        # the shared list has no codes: every entry is named, nothing is published
        done = import_catalogue(hub, "/work/shared/data/service-catalogue.yaml")
        assert done.returncode == 1
        assert "services[0] (社会保障卡补换).code" in done.stderr and "17 error(s)" in done.stderr
        assert httpx.get(f"{hub.api}/hub/catalogue", timeout=30).headers["etag"] == before
    finally:
        hub.stop()


def test_a_hall_naming_items_by_code_starts_from_its_copy_with_the_hub_down(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    hall = CityHall(tmp_path, "xiashu", name="下蜀镇便民服务中心", kind="town", parent=None, database=None)
    try:
        token = hub.add_hall("xiashu", name=hall.name, kind="town")
        assert import_catalogue(hub, example_config_path()).returncode == 0
        # the town promises 3 working days where the city promises 5
        by_code(hall.config_path, {"realestate-transfer": {"promised_days": 3}})
        hall.start(hub.url, token)
        handbook = httpx.get(f"{hall.d.api}/halls/xiashu/items/realestate-transfer", timeout=30)
        assert handbook.status_code == 200, handbook.text
        assert handbook.json()["promised_days"] == 3  # hall-local, shorter than the city's 5
        assert "完税凭证" in [m["name"] for m in handbook.json()["materials"]]  # the catalogue's
        copy = hall.workdir / "catalogue.json"
        assert copy.exists()

        hall.d.terminate()
        hub.kill()
        hall.start(hub.url, token)  # the hub is down: the hall starts from its copy
        again = httpx.get(f"{hall.d.api}/halls/xiashu/items/sbk-replace", timeout=30)
        assert again.status_code == 200 and again.json()["name"] == "社会保障卡补换"
        assert "out of reach" in hall.d.log_text()
    finally:
        if hall.dispatcher is not None:
            hall.d.terminate()
        hub.stop()


def test_check_config_names_every_code_the_catalogue_lacks_and_every_other_error(tmp_path: Path) -> None:
    data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    data["services"][0]["items"] = ["sbk-replace", "no-such-item", {"code": "pension-enrol", "fee": "10 元"}]
    data["windows"][0]["services"] = ["Z"]
    config = tmp_path / "hall.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cmd = [sys.executable, "-m", "hallq.cli", "check-config", str(config), "--catalogue", str(example_config_path())]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "services[0].items[1]: item code 'no-such-item' is not in the city's catalogue" in done.stderr
    assert "services[0].items[2]: item 'pension-enrol': fee is the catalogue's" in done.stderr
    assert "window 1 serves unknown service 'Z'" in done.stderr
    assert "3 error(s)" in done.stderr

    data["services"][0]["items"] = ["sbk-replace"]
    data["windows"][0]["services"] = ["A"]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ok = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
