"""delivery links as paths; demo planning documents served by the portal

Links stored as absolute URLs stayed wrong when PORTAL_BASE_URL changed. Links on the configured
base URL, or on the old default http://127.0.0.1:5000 the demo loader used, become paths; pages
show them as they are and the API and register export make them absolute on the base URL.

Demo planning documents linked to a domain that does not exist; they become documents the
portal generates itself (storage_key "generated:<kind>", a PDF).

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01 21:45:00.000000

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD_DEFAULT = 'http://127.0.0.1:5000'

DEAD_DOCUMENTS = 'https://documents.castlebrook.example/planning/'

documents = sa.table(
    'planning_documents',
    sa.column('id', sa.Integer),
    sa.column('url', sa.String),
    sa.column('storage_key', sa.String),
    sa.column('content_type', sa.String),
)
deliveries = sa.table(
    'portal_deliveries', sa.column('id', sa.Integer), sa.column('url', sa.String)
)


def _base_url():
    return current_app.config['PORTAL'].base_url.rstrip('/')


def upgrade():
    conn = op.get_bind()
    prefixes = {_base_url(), OLD_DEFAULT}
    for row_id, url in conn.execute(sa.select(deliveries.c.id, deliveries.c.url)).all():
        for prefix in prefixes:
            if url == prefix or url.startswith(prefix + '/'):
                path = url[len(prefix):] or '/'
                conn.execute(
                    deliveries.update().where(deliveries.c.id == row_id).values(url=path)
                )
                break
    dead = conn.execute(
        sa.select(documents.c.id, documents.c.url).where(
            documents.c.url.like(DEAD_DOCUMENTS + '%')
        )
    ).all()
    for row_id, url in dead:
        kind = url.rsplit('/', 1)[-1].removesuffix('.pdf')
        conn.execute(
            documents.update()
            .where(documents.c.id == row_id)
            .values(url=None, storage_key='generated:' + kind, content_type='application/pdf')
        )


def downgrade():
    conn = op.get_bind()
    base = _base_url()
    for row_id, url in conn.execute(sa.select(deliveries.c.id, deliveries.c.url)).all():
        if url.startswith('/'):
            conn.execute(
                deliveries.update().where(deliveries.c.id == row_id).values(url=base + url)
            )
