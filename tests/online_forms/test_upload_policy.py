"""Uploads on a form page: a decompression bomb or a disguised format gets a clear error."""

from __future__ import annotations

import io

from tests.common.test_uploads import DISGUISED, make_bomb_png
from tests.helpers.pages import check_html, error_summary
from tests.online_forms.conftest import ADDRESS


def test_forms_page_shows_a_clear_error_for_a_bomb(demo, runner_for):
    bomb_png = make_bomb_png()
    runner = runner_for("resident-parking-permit")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"registration": "CK21 ABC"})
    response = runner.post(
        url,
        {"proof": (io.BytesIO(bomb_png), "scan.png"), "upload": "1"},
        expect=400,
        content_type="multipart/form-data",
    )
    assert error_summary(check_html(response)) == [
        "scan.png: The selected file is too large: images must be 40 megapixels or fewer"
    ]
    bmp = runner.post(
        url,
        {"proof": (io.BytesIO(DISGUISED["bmp"]()), "scan.png"), "upload": "1"},
        expect=400,
        content_type="multipart/form-data",
    )
    assert error_summary(check_html(bmp)) == [
        "scan.png: The selected file must be a PDF, JPG or PNG"
    ]
