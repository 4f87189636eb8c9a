"""Kiosk helpers for tests: enrol a device directly, sign a browser session cookie."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from portal.accounts.models import User
from portal.channels.kiosk import DEVICE_COOKIE, enrol_device
from portal.extensions import db
from tests.helpers.auth import make_user


def enrol(app: Flask, library: str = "Castlebrook Central Library") -> tuple[int, str, str]:
    """Create a kiosk device; returns (id, cookie value, assistance code)."""
    staff = make_user(app, roles=("library",))
    with app.app_context():
        device, cookie, code = enrol_device(library, "Terminal 1", staff.id)
        db.session.commit()
        return device.id, cookie, code


def kiosk_client(app: Flask, cookie: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie(DEVICE_COOKIE, cookie, domain="localhost")
    return client


def library_staff(
    app: Flask, password: str = "correct horse battery", name: str = "Tom Bright"
) -> User:
    user = make_user(app, roles=("library",), name=name)
    with app.app_context():
        row = db.session.get(User, user.id)
        row.password_hash = generate_password_hash(password)
        db.session.commit()
    return user
