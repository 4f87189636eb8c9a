"""channels: acting sessions (staff using the resident screens for a caller or visitor)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 05:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('acting_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_session_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['staff_session_id'], ['user_sessions.id'], name=op.f('fk_acting_sessions_staff_session_id_user_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_acting_sessions_staff_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_acting_sessions_resident_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acting_sessions'))
    )
    with op.batch_alter_table('acting_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acting_sessions_staff_session_id'), ['staff_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acting_sessions_resident_id'), ['resident_id'], unique=False)


def downgrade():
    with op.batch_alter_table('acting_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acting_sessions_resident_id'))
        batch_op.drop_index(batch_op.f('ix_acting_sessions_staff_session_id'))

    op.drop_table('acting_sessions')
