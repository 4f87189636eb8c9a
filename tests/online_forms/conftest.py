"""Fixtures for the online forms tests: the demo gazetteer and forms, and a runner helper."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.online_forms.demo import load_demo_forms
from tests.helpers.pages import check_html


@pytest.fixture(autouse=True)
def offices(app):
    """The demo council's receiving offices, which forms choose from."""
    from portal.extensions import db
    from portal.online_forms.services import load_demo_offices

    with app.app_context():
        load_demo_offices()
        db.session.commit()


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_forms()
    return app


class Runner:
    """Drives a form through the test client, one page POST at a time, like a browser without JS."""

    def __init__(self, client, slug: str):
        self.client = client
        self.slug = slug
        self.token = None

    def _csrf(self, html: str) -> str:
        soup = BeautifulSoup(html, "html.parser")
        return soup.find("input", attrs={"name": "csrf_token"})["value"]

    def start(self):
        page = self.client.get(f"/forms/{self.slug}")
        check_html(page)
        response = self.client.post(
            f"/forms/{self.slug}/start",
            data={"csrf_token": self._csrf(page.get_data(as_text=True))},
        )
        assert response.status_code == 303, response.status_code
        return response.headers["Location"]

    def post(self, url: str, data: dict, expect: int = 303, **kwargs):
        page = self.client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        check_html(page)
        data = {"csrf_token": self._csrf(page.get_data(as_text=True)), **data}
        response = self.client.post(url, data=data, **kwargs)
        assert response.status_code == expect, (
            url,
            response.status_code,
            response.get_data(as_text=True)[:3000],
        )
        return response

    def answer(self, url: str, data: dict) -> str:
        return self.post(url, data).headers["Location"]

    def submit(self, extra: dict | None = None, expect: int = 303):
        check = self.client.get(f"/forms/{self.slug}/check")
        assert check.status_code == 200, check.status_code
        soup = check_html(check)
        self.token = soup.find("input", attrs={"name": "token"})["value"]
        data = {"csrf_token": self._csrf(str(soup)), "token": self.token, **(extra or {})}
        response = self.client.post(f"/forms/{self.slug}/submit", data=data)
        assert response.status_code == expect, response.get_data(as_text=True)[:2000]
        return response


ADDRESS = {"address_postcode": "CK1 1AB", "address": "100090000001"}


@pytest.fixture
def runner_for(demo):
    def make(slug: str, client=None):
        return Runner(client or demo.test_client(), slug)

    return make
