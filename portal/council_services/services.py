"""Domain functions of the A–Z: the live BVPI 157 figure, search, versions, importer, reminders."""

from __future__ import annotations

import bisect
import csv
import difflib
import io
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import and_, case, exists, func, or_, select, text
from sqlalchemy.orm import selectinload

from portal.common.clock import govuk_date, uk_today
from portal.common.models import PortalDelivery, utcnow
from portal.common.urls import absolute_url, external_url
from portal.council_services.models import (
    CHANNELS,
    LGIL_TYPES,
    PORTAL_CHANNELS,
    Bvpi157Snapshot,
    Interaction,
    SearchMiss,
    Service,
    ServiceVersion,
    SiteAlert,
)
from portal.extensions import db

BVPI157_TARGET = 100.0

# ---------------------------------------------------------------- safe Markdown

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def render_markdown(source: str) -> Markup:
    """Markdown to HTML; HTML tags typed into the source are dropped (never run, never shown)."""
    html = _markdown.render(_HTML_TAG.sub("", source or ""))
    html = html.replace("<p>", '<p class="govuk-body">').replace(
        "<a href", '<a class="govuk-link" href'
    )
    html = html.replace("<ul>", '<ul class="govuk-list govuk-list--bullet">')
    html = html.replace("<ol>", '<ol class="govuk-list govuk-list--number">')
    html = html.replace("<h2>", '<h2 class="govuk-heading-m">').replace(
        "<h3>", '<h3 class="govuk-heading-s">'
    )
    return Markup(html)  # noqa: S704  (markdown-it escapes everything: raw HTML is disabled)


def slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:110] or "service"


def unique_slug(name: str, exclude_id: int | None = None) -> str:
    base = slugify(name)
    slug, n = base, 2
    while True:
        query = select(Service.id).where(Service.slug == slug)
        if exclude_id:
            query = query.where(Service.id != exclude_id)
        if db.session.scalar(query) is None:
            return slug
        slug, n = f"{base}-{n}", n + 1


# ---------------------------------------------------------------- BVPI 157


def _delivered():
    """EXISTS a live portal delivery for the interaction's (LGSL, LGIL)."""
    return exists().where(
        PortalDelivery.lgsl == Service.lgsl,
        PortalDelivery.lgil == Interaction.lgil,
        PortalDelivery.live.is_(True),
    )


def _counts():
    """Numerator and denominator sums; callers restrict to published services (`_published`)."""
    counted = and_(Interaction.applicable.is_(True), Interaction.permissible.is_(True))
    enabled = or_(Interaction.e_enabled.is_(True), _delivered())
    numerator = func.coalesce(func.sum(case((and_(counted, enabled), 1), else_=0)), 0)
    denominator = func.coalesce(func.sum(case((counted, 1), else_=0)), 0)
    return numerator, denominator


def _published():
    """Only published services count: a draft's interactions are "coming", shown to staff only."""
    return Service.published.is_(True)


@dataclass(frozen=True)
class Bvpi157:
    numerator: int
    denominator: int
    as_of: datetime

    @property
    def percent(self) -> float:
        return round(100.0 * self.numerator / self.denominator, 1) if self.denominator else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "percent": self.percent,
            "as_of": self.as_of.isoformat(),
        }


def bvpi157() -> Bvpi157:
    """The live figure, in one aggregate query over the register and the portal's deliveries."""
    numerator, denominator = _counts()
    row = db.session.execute(
        select(numerator, denominator).select_from(Interaction).join(Service).where(_published())
    ).one()
    return Bvpi157(int(row[0]), int(row[1]), utcnow())


def bvpi157_breakdown(by: str) -> list[tuple[str, int, int, float]]:
    """(label, numerator, denominator, percent) by interaction type or by department."""
    numerator, denominator = _counts()
    key = Interaction.lgil if by == "type" else Service.department
    rows = db.session.execute(
        select(key, numerator, denominator)
        .select_from(Interaction)
        .join(Service)
        .where(_published())
        .group_by(key)
        .order_by(key)
    ).all()
    result = []
    for k, num, den in rows:
        label = f"{k} {LGIL_TYPES.get(k, '')}" if by == "type" else (k or "No department")
        result.append((label, int(num), int(den), round(100.0 * num / den, 1) if den else 0.0))
    return result


def coming() -> Bvpi157:
    """What draft services would add once published (shown to staff as "coming", never counted)."""
    numerator, denominator = _counts()
    row = db.session.execute(
        select(numerator, denominator)
        .select_from(Interaction)
        .join(Service)
        .where(Service.published.is_(False))
    ).one()
    return Bvpi157(int(row[0]), int(row[1]), utcnow())


def not_yet_enabled() -> list[tuple[Service, Interaction]]:
    """Counted interactions that are not e-enabled, soonest target first."""
    rows = db.session.execute(
        select(Service, Interaction)
        .join(Interaction)
        .where(
            _published(),
            Interaction.applicable.is_(True),
            Interaction.permissible.is_(True),
            Interaction.e_enabled.is_(False),
            ~_delivered(),
        )
        .order_by(Interaction.target_date.is_(None), Interaction.target_date, Service.name)
    ).all()
    return [(s, i) for s, i in rows]


def exclusions() -> list[tuple[Service, Interaction]]:
    rows = db.session.execute(
        select(Service, Interaction)
        .join(Interaction)
        .where(_published(), Interaction.applicable.is_(True), Interaction.permissible.is_(False))
        .order_by(Service.name, Interaction.lgil)
    ).all()
    return [(s, i) for s, i in rows]


def delivered_pairs(lgsl: int | None = None) -> dict[tuple[int, int], list[PortalDelivery]]:
    """Live portal deliveries by (LGSL, LGIL)."""
    query = select(PortalDelivery).where(PortalDelivery.live.is_(True))
    if lgsl is not None:
        query = query.where(PortalDelivery.lgsl == lgsl)
    result: dict[tuple[int, int], list[PortalDelivery]] = {}
    for row in db.session.scalars(query.order_by(PortalDelivery.id)):
        result.setdefault((row.lgsl, row.lgil), []).append(row)
    return result


@dataclass
class EffectiveInteraction:
    """An interaction as it counts now: its register entry plus what the portal delivers."""

    interaction: Interaction
    deliveries: list[PortalDelivery] = field(default_factory=list)

    @property
    def counted(self) -> bool:
        return self.interaction.applicable and self.interaction.permissible

    @property
    def e_enabled(self) -> bool:
        return self.interaction.e_enabled or bool(self.deliveries)

    @property
    def channels(self) -> list[str]:
        channels = list(self.interaction.channels or [])
        if self.deliveries:
            channels += [c for c in PORTAL_CHANNELS if c not in channels]
        return channels

    @property
    def online_url(self) -> str:
        if self.deliveries:
            return self.deliveries[0].url
        return self.interaction.evidence_url if self.interaction.e_enabled else ""


def effective_interactions(service: Service) -> list[EffectiveInteraction]:
    pairs = delivered_pairs(service.lgsl) if service.lgsl is not None else {}
    return [
        EffectiveInteraction(i, pairs.get((service.lgsl or -1, i.lgil), []))
        for i in service.interactions
    ]


def take_snapshot(source: str = "scheduled", user_id: int | None = None) -> Bvpi157Snapshot:
    figure = bvpi157()
    snapshot = Bvpi157Snapshot(
        numerator=figure.numerator,
        denominator=figure.denominator,
        percent=figure.percent,
        target=BVPI157_TARGET,
        source=source,
        taken_by_id=user_id,
        taken_at=figure.as_of,
    )
    db.session.add(snapshot)
    return snapshot


def snapshots(limit: int = 12) -> list[Bvpi157Snapshot]:
    """The latest quarterly and on-demand snapshots (daily ones feed the forecast chart)."""
    rows = db.session.scalars(
        select(Bvpi157Snapshot)
        .where(Bvpi157Snapshot.source != "daily")
        .order_by(Bvpi157Snapshot.taken_at.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def return_csv() -> str:
    """The return-like CSV: one row per service × interaction type."""
    pairs = delivered_pairs()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "LGSL", "Service", "Department", "LGIL", "Interaction type", "Applicable",
            "Legally permissible", "Exclusion reason", "E-enabled", "Channels",
            "E-enabled since", "Target date", "Evidence", "Delivered by the portal",
            "Published", "Counted in BVPI 157",
        ]
    )  # fmt: skip
    services = db.session.scalars(select(Service).order_by(Service.lgsl, Service.name)).all()
    for service in services:
        for i in service.interactions:
            delivered = pairs.get((service.lgsl or -1, i.lgil), [])
            channels = list(i.channels or [])
            if delivered:
                channels += [c for c in PORTAL_CHANNELS if c not in channels]
            writer.writerow(
                [
                    service.lgsl or "", service.name, service.department, i.lgil, i.label,
                    "yes" if i.applicable else "no", "yes" if i.permissible else "no",
                    i.exclusion_reason, "yes" if (i.e_enabled or delivered) else "no",
                    " ".join(channels), i.enabled_since or "", i.target_date or "",
                    i.evidence_url or (absolute_url(delivered[0].url) if delivered else ""),
                    "; ".join(d.title for d in delivered),
                    "yes" if service.published else "no (draft: coming)",
                    "yes" if service.published and i.applicable and i.permissible else "no",
                ]
            )  # fmt: skip
    return out.getvalue()


# ---------------------------------------------------------------- search

# PostgreSQL: `council_services.search_vector` is a generated tsvector column with a GIN index
# (see the migration): name and synonyms weigh A, summary B, body D.
# A few words residents use that services do not (service synonyms cover the rest).
QUERY_SYNONYMS = {"rubbish": "waste", "refuse": "waste", "dustbin": "bin", "tip": "recycling"}
_vocabulary: dict[str, Any] = {"key": None, "words": []}
_vocabulary_lock = threading.Lock()


def _terms(query: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", query.lower())[:12]


VOCABULARY_TTL = 5.0  # seconds an unchanged catalogue's vocabulary is trusted without a check


def _vocabulary_words() -> list[str]:
    now = time.monotonic()
    if _vocabulary["words"] and now - _vocabulary.get("checked", 0.0) < VOCABULARY_TTL:
        return _vocabulary["words"]
    key = db.session.execute(
        select(func.count(Service.id), func.max(Service.updated_at)).where(Service.published)
    ).one()
    key = (key[0], str(key[1]))
    with _vocabulary_lock:
        if _vocabulary["key"] != key:
            words: set[str] = set()
            rows = db.session.execute(
                select(Service.name, Service.synonyms, Service.summary).where(Service.published)
            )
            for row in rows:
                words.update(w for w in _terms(" ".join(row)) if len(w) > 2)
            _vocabulary["key"], _vocabulary["words"] = key, sorted(words)
            _vocabulary["corrections"] = {}
        _vocabulary["checked"] = now
        return _vocabulary["words"]


def _closest(term: str, words: list[str]) -> str:
    """The catalogue word nearest `term` (same first letter, similar length), or `term`."""
    cache = _vocabulary.setdefault("corrections", {})
    if term not in cache:
        candidates = [w for w in words if w[0] == term[0] and abs(len(w) - len(term)) <= 2]
        close = difflib.get_close_matches(term, candidates, n=1, cutoff=0.78)
        if len(cache) > 5000:
            cache.clear()
        cache[term] = close[0] if close else term
    return cache[term]


def correct_terms(terms: list[str]) -> list[str]:
    """Replace words that match nothing with the closest word the catalogue uses."""
    words = _vocabulary_words()
    corrected = []
    for term in terms:
        term = QUERY_SYNONYMS.get(term, term)
        index = bisect.bisect_left(words, term)  # words are sorted: a prefix match sits here
        if (
            len(term) < 4
            or term.isdigit()
            or (index < len(words) and words[index].startswith(term))
        ):
            corrected.append(term)  # a word (or the start of one) the catalogue uses
        else:
            corrected.append(_closest(term, words))
    return corrected


@dataclass(frozen=True)
class SearchHit:
    id: int
    slug: str
    name: str
    summary: str


def _search_rows(terms: list[str], limit: int) -> list[SearchHit]:
    if db.engine.dialect.name == "postgresql":
        for tsquery in (
            "websearch_to_tsquery('english', :q)",
            "to_tsquery('english', :prefix)",
        ):
            sql = text(
                "SELECT id, slug, name, summary FROM council_services "
                f"WHERE published AND search_vector @@ {tsquery} "
                f"ORDER BY ts_rank(search_vector, {tsquery}) DESC, name LIMIT :limit"
            )
            rows = db.session.execute(
                sql,
                {
                    "q": " ".join(terms),
                    "prefix": " | ".join(f"{t}:*" for t in terms),
                    "limit": limit,
                },
            ).all()
            if rows:
                return [SearchHit(*row) for row in rows]
        return []
    for match in (" ".join(f'"{t}"' for t in terms), " OR ".join(f'"{t}"*' for t in terms)):
        sql = text(
            "SELECT s.id, s.slug, s.name, s.summary FROM council_service_search f "
            "JOIN council_services s ON s.id = f.rowid "
            "WHERE council_service_search MATCH :match AND s.published "
            "ORDER BY bm25(council_service_search, 10.0, 8.0, 3.0, 1.0), s.name LIMIT :limit"
        )
        rows = db.session.execute(sql, {"match": match, "limit": limit}).all()
        if rows:
            return [SearchHit(*row) for row in rows]
    return []


@dataclass
class SearchResult:
    query: str
    services: list[SearchHit]
    corrected: str = ""


def found_message(query: str, result: SearchResult | None) -> str:
    """A search's outcome in a few words ("12 services found for “bin”"), for the title and
    to be read out after each search as you type."""
    if result is None:
        return ""
    count = len(result.services)
    if not count:
        return f"No services found for “{query}”"
    return f"{count} {'service' if count == 1 else 'services'} found for “{query}”"


def search_services(query: str, limit: int = 30) -> SearchResult:
    """Published services matching `query`, best first; typos corrected against the catalogue."""
    terms = _terms(query)
    if not terms:
        return SearchResult(query, [])
    corrected = correct_terms(terms)
    hits = _search_rows(corrected, limit)
    phrase = " ".join(corrected)

    def closeness(hit: SearchHit) -> int:
        name = " ".join(_terms(hit.name))
        return 0 if name == phrase else 1 if name.startswith(phrase) else 2

    hits.sort(key=closeness)  # stable: an exact or leading name match first, then by rank
    return SearchResult(query, hits, phrase if hits and corrected != terms else "")


def log_search_miss(query: str) -> None:
    """Count a search that found nothing (the caller commits)."""
    normalised = " ".join(_terms(query))[:200]
    if len(normalised) < 3:
        return
    row = db.session.scalar(select(SearchMiss).where(SearchMiss.query == normalised))
    if row is None:
        db.session.add(SearchMiss(query=normalised, count=1))
    else:
        row.count += 1
        row.last_seen = utcnow()


# ---------------------------------------------------------------- versions

VERSIONED_FIELDS = (
    "name", "slug", "lgsl", "summary", "body", "synonyms", "topics", "life_events", "department",
    "owner_id", "phone", "email", "address", "opening_hours", "related_links", "review_due",
    "last_reviewed", "status_notice", "published",
)  # fmt: skip


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def service_state(service: Service) -> dict[str, Any]:
    state = {name: _plain(getattr(service, name)) for name in VERSIONED_FIELDS}
    state["interactions"] = {
        str(i.lgil): {
            "applicable": i.applicable,
            "permissible": i.permissible,
            "exclusion_reason": i.exclusion_reason,
            "e_enabled": i.e_enabled,
            "channels": list(i.channels or []),
            "enabled_since": _plain(i.enabled_since),
            "target_date": _plain(i.target_date),
            "evidence_url": i.evidence_url,
        }
        for i in service.interactions
    }
    return state


def _read_value(value: Any) -> str:
    """One stored value of a version as people read it: dates, yes/no, lists, links."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return govuk_date(date.fromisoformat(value))
    if isinstance(value, list):
        return ", ".join(
            f"{v.get('text', '')} ({v.get('url', '')})" if isinstance(v, dict) else _read_value(v)
            for v in value
        )
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_read_value(v)}" for k, v in value.items())
    return str(value)


def _read_interactions(value: dict[str, Any] | None) -> str:
    """The register rows of a version, one sentence per interaction type."""
    if not value:
        return "None recorded"
    lines = []
    for lgil, row in sorted(value.items(), key=lambda item: int(item[0])):
        words = ["applies" if row.get("applicable") else "does not apply"]
        if not row.get("permissible", True):
            words.append(f"cannot legally be done electronically ({row.get('exclusion_reason')})")
        elif row.get("e_enabled"):
            channels = ", ".join(CHANNELS.get(c, c) for c in row.get("channels") or [])
            words.append(f"e-enabled ({channels})" if channels else "e-enabled")
            if row.get("enabled_since"):
                words.append(f"since {_read_value(row['enabled_since'])}")
        elif row.get("target_date"):
            words.append(f"target {_read_value(row['target_date'])}")
        if row.get("evidence_url"):
            words.append(f"evidence {row['evidence_url']}")
        lines.append(f"{LGIL_TYPES.get(int(lgil), 'Interaction')}: {', '.join(words)}")
    return ". ".join(lines) + "."


def version_rows(version: ServiceVersion) -> list[tuple[str, str, str]]:
    """(field, before, after) of one version, in words: no stored dicts, lists or ISO dates."""
    rows = []
    for name, (before, after) in sorted((version.changes or {}).items()):
        read = _read_interactions if name == "interactions" else _read_value
        rows.append((name.replace("_", " ").capitalize(), read(before), read(after)))
    return rows


def record_version(
    service: Service, action: str, before: dict[str, Any] | None, actor: Any | None
) -> ServiceVersion | None:
    """Add a version row listing changed fields as [old, new]; None when nothing changed."""
    from portal.common.audit import record_audit

    after = service_state(service)
    before = before or {}
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if not changes:
        return None
    service.updated_at = utcnow()
    version = ServiceVersion(
        service_id=service.id,
        action=action,
        changes=changes,
        changed_by_id=getattr(actor, "id", None),
        changed_by_email=getattr(actor, "email", "") or "",
    )
    db.session.add(version)
    record_audit(
        f"council_service.{action}", "council_service", service.id, {"fields": sorted(changes)}
    )
    return version


def set_initial(service: Service) -> None:
    first = (service.name or "?").strip()[:1].upper()
    service.initial = first if first.isalpha() else "#"


# ---------------------------------------------------------------- reviews


def services_needing_review(today: date | None = None) -> list[Service]:
    today = today or uk_today()
    return list(
        db.session.scalars(
            select(Service)
            .where(Service.review_due.is_not(None), Service.review_due <= today)
            .order_by(Service.review_due, Service.name)
        )
    )


def send_review_reminders(today: date | None = None) -> int:
    """Email each owner once per overdue review date; returns how many emails were queued."""

    from portal.common.outbox import queue_email

    sent = 0
    for service in services_needing_review(today):
        owner = service.owner
        if owner is None or service.review_reminder_sent_for == service.review_due:
            continue
        link = external_url("council_services_staff.edit", service_id=service.id)
        queue_email(
            owner.email,
            f"Review due: {service.name}",
            f"Hello {owner.display_name or owner.email},\n\nThe page for {service.name} was due "
            f"for review on {service.review_due:%d %B %Y}. Please check it is still right and "
            f"set a new review date:\n\n{link}\n",
        )
        service.review_reminder_sent_for = service.review_due
        sent += 1
    return sent


# ---------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Banner:
    id: str
    title: str
    message: str
    severity: str


BANNER_TTL = 5.0  # seconds a worker reuses the list of alerts before asking the database again


def _banner_cache() -> dict[str, Any]:
    from flask import current_app

    return current_app.extensions.setdefault(
        "council_services_banner_cache", {"at": -1e9, "rows": []}
    )


def forget_banners() -> None:
    """Drop this worker's cached alerts (called when staff add or end one)."""
    _banner_cache()["at"] = -1e9


def site_banners() -> list[Banner]:
    """The banner provider: every alert whose window is open now.

    Every page asks, so each worker keeps the alerts that have not ended for a few seconds and
    filters them by time on each request; other workers see a change within BANNER_TTL.
    """
    now = utcnow()
    cache = _banner_cache()
    if time.monotonic() - cache["at"] > BANNER_TTL:
        rows = db.session.execute(
            select(
                SiteAlert.id,
                SiteAlert.title,
                SiteAlert.message,
                SiteAlert.severity,
                SiteAlert.starts_at,
                SiteAlert.ends_at,
            )
            .where(or_(SiteAlert.ends_at.is_(None), SiteAlert.ends_at > now))
            .order_by(SiteAlert.starts_at.desc())
        ).all()
        cache["rows"], cache["at"] = [tuple(r) for r in rows], time.monotonic()

    def aware(value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    return [
        Banner(f"alert-{i}", title, message, severity)
        for i, title, message, severity, starts, ends in cache["rows"]
        if aware(starts) <= now and (ends is None or aware(ends) > now)
    ]


# ---------------------------------------------------------------- LGSL importer


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def import_lgsl_csv(content: str) -> ImportReport:
    """Create or update draft services from an esd LGSL CSV; the caller commits.

    Discontinued rows are skipped; malformed rows are reported by line number and the rest imported.
    """
    report = ImportReport()
    content = content.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        report.errors.append("line 1: the file is empty")
        return report
    missing = {"Identifier", "Label", "Status"} - set(header)
    if missing:
        report.errors.append(f"line 1: missing columns {', '.join(sorted(missing))}")
        return report
    col = {name: header.index(name) for name in header}
    existing = {
        s.lgsl: s for s in db.session.scalars(select(Service).where(Service.lgsl.is_not(None)))
    }
    seen: set[int] = set()
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header) - 1 or len(row) > len(header):
            report.errors.append(f"line {start}: expected {len(header)} columns, found {len(row)}")
            continue
        identifier = row[col["Identifier"]].strip()
        label = row[col["Label"]].strip()
        status = row[col["Status"]].strip()
        if not identifier.isdigit() or int(identifier) <= 0:
            report.errors.append(
                f"line {start}: identifier {identifier!r} is not a positive number"
            )
            continue
        if not label:
            report.errors.append(f"line {start}: the label is empty")
            continue
        if status not in {"Live", "Discontinued"}:
            report.errors.append(f"line {start}: unknown status {status!r}")
            continue
        lgsl = int(identifier)
        if lgsl in seen:
            report.errors.append(f"line {start}: LGSL {lgsl} appears twice")
            continue
        seen.add(lgsl)
        if status == "Discontinued":
            report.skipped += 1
            continue
        description = row[col["Description"]].strip() if "Description" in col else ""
        service = existing.get(lgsl)
        if service is None:
            service = Service(
                lgsl=lgsl,
                name=label[:200],
                slug=unique_slug(label),
                summary=description.split("\n")[0][:500],
                body=description,
                published=False,
                topics=[],
                life_events=[],
                related_links=[],
            )
            set_initial(service)
            db.session.add(service)
            db.session.flush()
            existing[lgsl] = service
            report.created += 1
        elif not service.published and (service.name != label[:200] or service.body != description):
            service.name, service.body = label[:200], description
            set_initial(service)
            service.updated_at = utcnow()
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def service_catalogue() -> dict[int, tuple[str, str]]:
    """LGSL number → (service name, department) for every service that has an LGSL number."""
    rows = db.session.execute(
        select(Service.lgsl, Service.name, Service.department).where(Service.lgsl.is_not(None))
    ).all()
    return {lgsl: (name, department or "Other") for lgsl, name, department in rows}


def service_owner_email(lgsl: int) -> str:
    """Where feedback on service `lgsl` goes: its owner's address, else its contact address."""
    service = db.session.scalar(select(Service).where(Service.lgsl == lgsl))
    if service is None:
        return ""
    if service.owner is not None and service.owner.email:
        return service.owner.email
    return service.email or ""


def body_after_summary(body: str, summary: str) -> str:
    """The page body without a first paragraph that repeats the summary shown above it."""
    first, _, rest = body.strip().partition("\n\n")
    if summary and first.strip() == summary.strip():
        return rest
    return body


# ---------------------------------------------------------------- deliveries and the register


@dataclass(frozen=True)
class DeliveryMismatch:
    """Something the portal runs (or is about to) that maps onto no counted register interaction."""

    lgsl: int
    lgil: int
    title: str
    url: str
    problem: str
    service: Service | None
    can_add: bool  # the service exists and is published: staff may add the interaction


def delivery_problems(
    pairs: list[tuple[int, int]],
) -> dict[tuple[int, int], tuple[str | None, Service | None, bool]]:
    """`delivery_problem` for many (LGSL, LGIL) pairs, reading the register once."""
    lgsls = {lgsl for lgsl, _ in pairs}
    services = {
        s.lgsl: s
        for s in db.session.scalars(
            select(Service)
            .where(Service.lgsl.in_(sorted(lgsls) or [-1]))
            .options(selectinload(Service.interactions))
        )
    }
    return {(lgsl, lgil): _problem(lgsl, lgil, services.get(lgsl)) for lgsl, lgil in pairs}


def delivery_problem(lgsl: int, lgil: int) -> tuple[str | None, Service | None, bool]:
    """Why a delivery of (LGSL, LGIL) would count for nothing, or None when it maps onto a
    published service's applicable, permissible interaction; with the service and whether the
    interaction can be added to the register with the staff member's consent."""
    return delivery_problems([(lgsl, lgil)])[(lgsl, lgil)]


def _problem(
    lgsl: int, lgil: int, service: Service | None
) -> tuple[str | None, Service | None, bool]:
    kind = f"“{LGIL_TYPES.get(lgil, f'LGIL {lgil}')}” (LGIL {lgil})"
    if service is None:
        return (
            f"No service in the A to Z has LGSL {lgsl}: create and publish it first.",
            None,
            False,
        )
    if not service.published:
        return f"{service.name} (LGSL {lgsl}) is a draft: publish it first.", service, False
    interaction = next((i for i in service.interactions if i.lgil == lgil), None)
    if interaction is None:
        return (
            f"{service.name} (LGSL {lgsl}) has no {kind} interaction in the register.",
            service,
            True,
        )
    if not interaction.applicable:
        return f"{service.name}: {kind} is marked not applicable in the register.", service, False
    if not interaction.permissible:
        return (
            f"{service.name}: {kind} is marked not legally permissible in the register.",
            service,
            False,
        )
    return None, service, False


def add_delivered_interaction(lgsl: int, lgil: int, user: Any = None) -> Interaction:
    """Add (LGSL, LGIL) to a published service's register with the staff member's consent (the
    caller commits); the live delivery then makes it e-enabled."""
    service = db.session.scalar(select(Service).where(Service.lgsl == lgsl))
    if service is None or not service.published:
        raise ValueError(f"No published service in the A to Z has LGSL {lgsl}")
    interaction = next((i for i in service.interactions if i.lgil == lgil), None)
    if interaction is not None:
        return interaction
    before = service_state(service)
    interaction = Interaction(lgil=lgil, applicable=True, permissible=True, channels=[])
    service.interactions.append(interaction)
    db.session.flush()
    record_version(service, "interaction added for a portal service", before, user)
    return interaction


def delivery_mismatches() -> list[DeliveryMismatch]:
    """Every live portal delivery that adds nothing to BVPI 157, with the reason."""
    result = []
    delivered = sorted(delivered_pairs().items())
    problems = delivery_problems([pair for pair, _ in delivered])
    for (lgsl, lgil), rows in delivered:
        problem, service, can_add = problems[(lgsl, lgil)]
        if problem:
            result.append(
                DeliveryMismatch(lgsl, lgil, rows[0].title, rows[0].url, problem, service, can_add)
            )
    return result
