"""service KPIs: satisfaction answers and counts, used survey tokens, journey counts

Revision ID: 0041
Revises: 0021
Create Date: 2026-12-02 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0041'
down_revision = '0031'
branch_labels = None
depends_on = None


def _counts(name, period, extra_keys, counts):
    op.create_table(name,
    sa.Column(period, sa.Date(), nullable=False),
    sa.Column('lgsl', sa.Integer(), nullable=False),
    sa.Column('lgil', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    *[sa.Column(key, sa.SmallInteger(), nullable=False) for key in extra_keys],
    *[sa.Column(count, sa.Integer(), nullable=False) for count in counts],
    sa.PrimaryKeyConstraint(period, 'lgsl', 'lgil', 'channel', *extra_keys, name=op.f(f'pk_{name}')),
    sqlite_with_rowid=False,
    )


def upgrade():
    op.create_table('satisfaction_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('lgsl', sa.Integer(), nullable=False),
    sa.Column('lgil', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_answers'))
    )
    op.create_index('ix_satisfaction_answers_service', 'satisfaction_answers', ['lgsl', 'day'], unique=False)
    _counts('satisfaction_daily', 'day', ['rating'], ['answers'])
    _counts('satisfaction_monthly', 'month', ['rating'], ['answers'])
    op.create_table('satisfaction_used_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_satisfaction_used_tokens'))
    )
    op.create_index(op.f('ix_satisfaction_used_tokens_used_on'), 'satisfaction_used_tokens', ['used_on'], unique=False)
    _counts('journey_daily', 'day', [], ['started', 'completed'])
    _counts('journey_monthly', 'month', [], ['started', 'completed'])


def downgrade():
    op.drop_table('journey_monthly')
    op.drop_table('journey_daily')
    op.drop_index(op.f('ix_satisfaction_used_tokens_used_on'), table_name='satisfaction_used_tokens')
    op.drop_table('satisfaction_used_tokens')
    op.drop_table('satisfaction_monthly')
    op.drop_table('satisfaction_daily')
    op.drop_index('ix_satisfaction_answers_service', table_name='satisfaction_answers')
    op.drop_table('satisfaction_answers')
