"""BVPI 157 forecast: owners of not-yet-enabled interactions, daily snapshots, the council's target

Every applicable, permissible interaction not yet e-enabled gets an owner (a staff user, or a named
officer and their department, with an email address for reminders) and remembers the target date
it last sent an overdue reminder for. A daily snapshot records its UK day, one per day. The
council's target (a percentage by a date) is kept with who set it; the newest row is in force.

Revision ID: 0042
Revises: 0021
Create Date: 2026-12-02 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0042'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('council_service_interactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('owner_name', sa.String(length=200), server_default='', nullable=False)
        )
        batch_op.add_column(
            sa.Column('owner_department', sa.String(length=120), server_default='', nullable=False)
        )
        batch_op.add_column(
            sa.Column('owner_email', sa.String(length=320), server_default='', nullable=False)
        )
        batch_op.add_column(sa.Column('target_reminder_sent_for', sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_council_service_interactions_owner_id'), ['owner_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_council_service_interactions_owner_id_users'),
            'users', ['owner_id'], ['id'], ondelete='SET NULL',
        )
    with op.batch_alter_table('bvpi157_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day', sa.Date(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_bvpi157_snapshots_day'), ['day'])
    op.create_table('bvpi157_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Float(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_bvpi157_targets_set_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bvpi157_targets'))
    )


def downgrade():
    op.drop_table('bvpi157_targets')
    with op.batch_alter_table('bvpi157_snapshots', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_bvpi157_snapshots_day'), type_='unique')
        batch_op.drop_column('day')
    with op.batch_alter_table('council_service_interactions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_council_service_interactions_owner_id_users'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_council_service_interactions_owner_id'))
        batch_op.drop_column('target_reminder_sent_for')
        batch_op.drop_column('owner_email')
        batch_op.drop_column('owner_department')
        batch_op.drop_column('owner_name')
        batch_op.drop_column('owner_id')
