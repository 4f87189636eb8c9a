"""Answer checks another slice adds to the forms on one of its interactions.

The form engine checks each answer on its own (a real date, an address in the gazetteer). Some
rules need another slice's data: a missed bin can only be reported for a collection that was due
at that address. The slice registers a check for the interaction's (LGSL, LGIL) when the app is
set up, so this package never imports it:

    register_answer_check(app, 524, 0, check_missed_collection)

A check is called as `check(definition, answers)` with the form's definition and every answer so
far (question id → stored answer, as `questions.read_answer` keeps it). It returns the problems as
(field id, message) pairs, the field being the question id or one of its parts ("missed_on-day").
A page shows the problems on its own questions; the submit shows them all on the check page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

AnswerCheck = Callable[[dict, dict], list[tuple[str, str]]]
EXTENSION = "portal_form_answer_checks"


def register_answer_check(app: Flask, lgsl: int, lgil: int, check: AnswerCheck) -> None:
    """Run `check` on the answers of every form on interaction (lgsl, lgil)."""
    app.extensions.setdefault(EXTENSION, {}).setdefault((int(lgsl), int(lgil)), []).append(check)


def checks_for(form: Any) -> list[AnswerCheck]:
    if form.lgsl is None:
        return []
    registry = current_app.extensions.get(EXTENSION, {})
    return list(registry.get((int(form.lgsl), int(form.lgil or 0)), []))


def check_answers(form: Any, definition: dict, answers: dict) -> list[tuple[str, str]]:
    """Every registered check's problems with these answers, in order, without repeats."""
    problems: list[tuple[str, str]] = []
    for check in checks_for(form):
        for problem in check(definition, answers):
            if problem not in problems:
                problems.append(problem)
    return problems


def _belongs(field_id: str, question_ids: set[str]) -> bool:
    return field_id in question_ids or field_id.split("-")[0] in question_ids


def page_problems(form: Any, definition: dict, page: dict, answers: dict) -> list[tuple[str, str]]:
    """The problems with the answers to `page`'s questions, the rest of the draft as context."""
    ids = {q["id"] for q in page.get("questions", [])}
    if not ids or not checks_for(form):
        return []
    return [p for p in check_answers(form, definition, answers) if _belongs(p[0], ids)]


def page_of(definition: dict, field_id: str) -> str | None:
    """The id of the page asking the question `field_id` belongs to."""
    for page in definition.get("pages", []):
        if _belongs(field_id, {q["id"] for q in page.get("questions", [])}):
            return page["id"]
    return None
