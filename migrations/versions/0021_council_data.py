"""council data: boundaries imported from GeoJSON, and the forms' receiving offices

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-01 22:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('boundaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('geometry', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boundaries')),
    sa.UniqueConstraint('level', 'code', name='uq_boundaries_level_code')
    )
    op.create_table('online_form_offices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('opening_hours', sa.Text(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_online_form_offices')),
    sa.UniqueConstraint('name', name=op.f('uq_online_form_offices_name'))
    )


def downgrade():
    op.drop_table('online_form_offices')
    op.drop_table('boundaries')
