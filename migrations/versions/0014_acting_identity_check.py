"""channels: how the caller's identity was checked when staff started acting for them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('acting_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_check', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('identity_detail', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('acting_sessions', schema=None) as batch_op:
        batch_op.drop_column('identity_detail')
        batch_op.drop_column('identity_check')
