"""The iCalendar feed (RFC 5545) of an address's collections.

Each collection is an all-day VEVENT whose UID is its round and the date it was originally due,
so when a collection moves (a bank holiday) a subscribed calendar updates the event in place
instead of adding a second one. Lines are folded at 75 octets and ended with CRLF.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from portal.common.clock import uk_today, utc_now
from portal.common.models import Address
from portal.common.urls import base_url
from portal.waste import services

FEED_DAYS_BACK = 28
FEED_DAYS_AHEAD = 366


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        limit = 75 if not parts else 74
        if len(current) + len(encoded) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def uid_for(round_id: int, original) -> str:  # noqa: ANN001
    host = base_url().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "portal"
    return f"waste-{round_id}-{original:%Y%m%d}@{host}"


def feed_for(address: Address) -> str:
    today = uk_today()
    found = services.address_collections(
        address.uprn,
        today - timedelta(days=FEED_DAYS_BACK),
        today + timedelta(days=FEED_DAYS_AHEAD),
    )
    council = current_app.config["PORTAL"].council_name
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{_escape(council)}//Bin collections//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape('Bin collections: ' + address.line1)}",
        "X-WR-TIMEZONE:Europe/London",
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H",
        "X-PUBLISHED-TTL:PT12H",
    ]
    for ac in found:
        summary = f"{ac.type.name} ({ac.type.colour})"
        description = f"{ac.type.name} collection from {address.single_line}."
        if ac.collection.changed:
            summary += " – changed day"
            description += (
                f" Moved from {services.long_date(ac.collection.original)}: {ac.collection.reason}."
            )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid_for(ac.round.id, ac.collection.original)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{ac.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{ac.day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(summary)}",
            f"DESCRIPTION:{_escape(description)}",
            "TRANSP:TRANSPARENT",
            f"SEQUENCE:{1 if ac.collection.changed else 0}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
