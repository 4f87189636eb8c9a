"""Helpers for the accounts tests: forms posted with their CSRF token, users with passwords."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.common.models import OutboxEmail
from portal.extensions import db
from tests.helpers.auth import make_user
from tests.helpers.pages import check_html, csrf_token

PASSWORD = "tawny owl lantern"


def post_form(
    client: FlaskClient, url: str, data: dict, follow: bool = False, token_url: str | None = None
):
    """POST `data` to `url` with the CSRF token of the form on `token_url` (default `url`)."""
    token = csrf_token(client, token_url or url)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=follow)


def user_with_password(
    app: Flask, email: str | None = None, roles: tuple[str, ...] = (), password: str = PASSWORD
) -> User:
    user = make_user(app, email=email, roles=roles)
    with app.app_context():
        row = db.session.get(User, user.id)
        row.password_hash = hash_password(password)
        db.session.commit()
    return user


def sign_in_with_form(client: FlaskClient, email: str, password: str = PASSWORD, **extra):
    return post_form(client, "/sign-in", {"email": email, "password": password, **extra})


def emails_to(app: Flask, address: str) -> list[OutboxEmail]:
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def link_in(email: OutboxEmail, base: str | None = None) -> str:
    """The path of the first portal link in an email (on `base`, or on any http(s) address)."""
    prefix = re.escape(base) if base else r"https?://[^/\s]+"
    match = re.search(prefix + r"(/\S+)", email.body_text)
    assert match, f"no link in {email.body_text!r}"
    return match.group(1)


def page(response) -> BeautifulSoup:  # noqa: ANN001
    return check_html(response)


def get_user(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user
