"""boundaries: the council area and wards imported from GeoJSON

Revision ID: 0021
Revises: 0010
Create Date: 2026-12-01 22:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0010'
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


def downgrade():
    op.drop_table('boundaries')
