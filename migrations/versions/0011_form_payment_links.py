"""form payment links: when a request awaiting payment was last emailed a link to finish paying

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('online_form_submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_link_sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('online_form_submissions', schema=None) as batch_op:
        batch_op.drop_column('payment_link_sent_at')
