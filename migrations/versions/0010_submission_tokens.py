"""submission tokens: one POST of a form counts once

A form that creates something carries a single-use token; the row recording it is written in the
same transaction as what the form created, unique on (purpose, token).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 05:34:36.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('submission_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_submission_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_tokens')),
    sa.UniqueConstraint('purpose', 'token', name='uq_submission_tokens_purpose_token')
    )
    with op.batch_alter_table('submission_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_tokens_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('submission_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_submission_tokens_created_at'))

    op.drop_table('submission_tokens')
