"""payments needing finance's attention: paid twice, or settled without an amount

A payment the portal could not settle or refund by itself carries a short note for finance,
shown on the staff payments page until someone deals with it.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01 21:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attention', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('attention')
