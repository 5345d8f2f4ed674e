"""order query indexes: a unit's recent orders, a buyer's last order

Revision ID: 7c01c0de0006
Revises: 7b01c0de0005
Create Date: 2026-11-26 18:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7c01c0de0006'
down_revision = '7b01c0de0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_unit_id')
        batch_op.create_index('ix_orders_unit_id_submitted_at', ['unit_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_orders_buyer_id_id', ['buyer_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_buyer_id_id')
        batch_op.drop_index('ix_orders_unit_id_submitted_at')
        batch_op.create_index('ix_orders_unit_id', ['unit_id'], unique=False)
