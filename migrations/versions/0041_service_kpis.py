"""service KPIs: satisfaction answers, used survey tokens, journey visits

Revision ID: 0041
Revises: 0021
Create Date: 2026-12-02 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0041'
down_revision = '0021'
branch_labels = None
depends_on = None


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
    op.create_index('ix_satisfaction_answers_period', 'satisfaction_answers', ['day', 'lgsl', 'lgil', 'channel', 'rating'], unique=False)
    op.create_index('ix_satisfaction_answers_service', 'satisfaction_answers', ['lgsl', 'day'], unique=False)
    op.create_table('satisfaction_used_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_satisfaction_used_tokens'))
    )
    op.create_index(op.f('ix_satisfaction_used_tokens_used_on'), 'satisfaction_used_tokens', ['used_on'], unique=False)
    op.create_table('journey_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey', sa.String(length=120), nullable=False),
    sa.Column('lgsl', sa.Integer(), nullable=False),
    sa.Column('lgil', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_visits'))
    )
    op.create_index('ix_journey_visits_period', 'journey_visits', ['started_on', 'lgsl', 'lgil', 'channel', 'completed_on'], unique=False)


def downgrade():
    op.drop_index('ix_journey_visits_period', table_name='journey_visits')
    op.drop_table('journey_visits')
    op.drop_index(op.f('ix_satisfaction_used_tokens_used_on'), table_name='satisfaction_used_tokens')
    op.drop_table('satisfaction_used_tokens')
    op.drop_index('ix_satisfaction_answers_service', table_name='satisfaction_answers')
    op.drop_index('ix_satisfaction_answers_period', table_name='satisfaction_answers')
    op.drop_table('satisfaction_answers')
