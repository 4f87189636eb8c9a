"""The demo council: each slice registers a loader; `flask --app portal demo load` runs them.

Loaders must be idempotent (running the command twice changes nothing) and run in `order`,
so a slice can rely on the data of slices with a lower order (boundaries 5, gazetteer 10, accounts 20,
council services 30, forms 40, payments 50, repairs 60, planning 70, waste 75, channels 80).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

DemoLoader = Callable[[], list[str]]  # returns lines to print (e.g. "600 addresses")


@dataclass(frozen=True)
class RegisteredLoader:
    order: int
    name: str
    load: DemoLoader


def register_demo_loader(app: Flask, order: int, name: str, load: DemoLoader) -> None:
    app.extensions.setdefault("portal_demo_loaders", []).append(RegisteredLoader(order, name, load))


def load_all() -> list[str]:
    """Run every registered loader in order; returns what they reported."""
    settings = current_app.config["PORTAL"]
    if settings.is_production:
        raise RuntimeError("Demo data is refused when PORTAL_ENV=production")
    lines: list[str] = []
    for loader in sorted(
        current_app.extensions.get("portal_demo_loaders", []), key=lambda r: r.order
    ):
        lines.extend(f"{loader.name}: {line}" for line in loader.load())
    return lines
