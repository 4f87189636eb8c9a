"""Demo planning documents are PDFs the portal writes and serves itself."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.demo import load_demo_accounts
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from portal.planning.demo import load_demo_planning
from portal.planning.documents import write_pdf
from portal.planning.models import PlanningApplication, PlanningDocument


def check_pdf_structure(data: bytes) -> None:
    """The cross-reference table points at every object and startxref at the table."""
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", data).group(1))
    assert data[startxref:].startswith(b"xref\n")
    table = data[startxref:].split(b"trailer")[0].splitlines()
    count = int(table[1].split()[1])
    offsets = [int(line.split()[0]) for line in table[3 : 2 + count]]
    assert len(offsets) == count - 1
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj" % number), number
    length = int(re.search(rb"/Length (\d+)", data).group(1))
    stream = data.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0]
    assert len(stream) == length


def test_the_pdf_writer_writes_a_well_formed_file():
    data = write_pdf(["Decision notice (approved)", "Site: 1 Mill Lane \\ café – 2"], "T")
    check_pdf_structure(data)
    assert b"(Decision notice \\(approved\\)) Tj" in data


def test_demo_documents_are_served_by_the_portal(app):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_accounts()
        load_demo_planning()
        docs = db.session.scalars(select(PlanningDocument)).all()
        assert docs
        assert all(d.url is None for d in docs), "no demo document links to another site"
        doc = docs[0]
        application = db.session.get(PlanningApplication, doc.application_id)
        slug, reference, doc_id = application.slug, application.reference, doc.id
    client = app.test_client()
    page = client.get(f"/planning/applications/{slug}").get_data(as_text=True)
    href = f"/planning/applications/{slug}/documents/{doc_id}"
    assert f'href="{href}"' in page
    response = client.get(href)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "inline" in response.headers["Content-Disposition"]
    check_pdf_structure(response.data)
    assert reference.encode() in response.data
