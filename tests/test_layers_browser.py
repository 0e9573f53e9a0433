"""In headless Chromium an analyst drops two files, watches both jobs finish, and opens the layer."""

from pathlib import Path
from typing import Any

import pytest

from tests import layers_data as d
from tests.browser import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_an_analyst_uploads_two_files_and_watches_them_finish_without_reload(
    world: Any, live_server: Any, celery_worker: str, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    inlets = tmp_path / "inlets.geojson"
    inlets.write_bytes(
        d.geojson_bytes(
            [d.feature(d.point(d.LON + i * 0.001), name=f"Inlet {i}", depth=i) for i in range(30)]
        )
    )
    broken = tmp_path / "broken.geojson"
    broken.write_bytes(b"")
    with browser_page() as page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "analyst")
        page.fill("#id_password", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_selector("h1")
        page.goto(f"{live_server.url}/projects/zoning-a/layers/upload/")
        page.set_input_files("#files", [str(inlets), str(broken)])
        assert "(0 bytes)" in page.inner_text("#queue") and "KB)" in page.inner_text("#queue")
        page.click("#start")
        page.wait_for_selector(".upload-item.ok a", timeout=30000)
        page.wait_for_selector(".upload-item.error", timeout=30000)
        assert "is empty (0 bytes)" in page.inner_text(".upload-item.error")
        page.screenshot(path=str(tmp_path / "upload.png"))
        page.click(".upload-item.ok a")
        page.wait_for_selector("#layer-map.loaded")
        page.wait_for_selector("#attr-table tbody tr")
        assert page.get_attribute("#layer-map", "data-features") == "30"
        assert "30 features" in page.inner_text("#attr-info")
        page.click("#attr-table button.sort[data-col=depth]")
        page.click("#attr-table button.sort[data-col=depth]")
        page.wait_for_function(
            "document.querySelector('#attr-table tbody tr td:nth-child(3)')?.textContent === '29'"
        )
        page.fill("#attr-q", "Inlet 7")
        page.wait_for_function("document.querySelectorAll('#attr-table tbody tr').length === 1")
        page.screenshot(path=str(tmp_path / "layer_page.png"), full_page=True)
