"""price monitoring rules and supplier credit ledger

Revision ID: 7a01c0de0004
Revises: 6c01c0de0003
Create Date: 2026-11-26 15:10:00

Also two enum values: offers may be ``frozen`` (held by price monitoring) and alerts may be
``price_rise``. The enums are VARCHAR + CHECK (app/auth/models.py ``_enum``), so the CHECK
constraints are replaced: in place on PostgreSQL, by a batch copy of the table on SQLite.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a01c0de0004'
down_revision = '6c01c0de0003'
branch_labels = None
depends_on = None

OFFER_STATUSES = ('draft', 'pending_review', 'listed', 'rejected', 'delisted')
ALERT_KINDS = (
    'order_splitting',
    'late_confirmation',
    'late_acceptance',
    'late_payment',
    'substitution',
    'price_above_reference',
)


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _change_enum(table, column, name, old, new):
    """Swap the CHECK constraint behind a non-native enum column."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(table, recreate='always') as batch_op:
            batch_op.alter_column(
                column, existing_type=_enum(old, name), type_=_enum(new, name), existing_nullable=False
            )
        return
    constraint = f'ck_{table}_{name}'
    values = ', '.join(f"'{v}'" for v in new)
    op.drop_constraint(op.f(constraint), table, type_='check')
    op.create_check_constraint(op.f(constraint), table, f'{column} IN ({values})')


def upgrade():
    _change_enum('offers', 'status', 'offer_status', OFFER_STATUSES, OFFER_STATUSES + ('frozen',))
    _change_enum('alerts', 'kind', 'alert_kind', ALERT_KINDS, ALERT_KINDS + ('price_rise',))
    op.create_table('price_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('above_reference', 'rise', name='price_rule_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('threshold_percent', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=True),
    sa.Column('action', sa.Enum('alert', 'freeze', 'delist', name='price_rule_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'rise' OR window_days IS NOT NULL", name=op.f('ck_price_rules_rise_needs_window')),
    sa.CheckConstraint('threshold_percent >= 0 AND threshold_percent <= 1000', name=op.f('ck_price_rules_threshold_range')),
    sa.CheckConstraint('window_days IS NULL OR (window_days >= 1 AND window_days <= 365)', name=op.f('ck_price_rules_window')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_price_rules_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_rules'))
    )
    op.create_table('credit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('late_confirmation', 'rejected_after_confirmation', 'substitution', 'price_above_reference', 'poor_evaluation', name='credit_reason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('evidence_key', sa.String(length=80), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('appeal_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('appeal_status', sa.Enum('none', 'pending', 'upheld', 'rejected', name='credit_appeal_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('appeal_text', sa.String(length=2000), nullable=True),
    sa.Column('appealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appealed_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.String(length=1000), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('points < 0', name=op.f('ck_credit_events_points_negative')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_credit_events_alert_id_alerts')),
    sa.ForeignKeyConstraint(['appealed_by_id'], ['users.id'], name=op.f('fk_credit_events_appealed_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_credit_events_decided_by_id_users')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_credit_events_offer_id_offers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_credit_events_order_id_orders')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organizations.id'], name=op.f('fk_credit_events_supplier_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_events')),
    sa.UniqueConstraint('reason', 'evidence_key', name=op.f('uq_credit_events_reason_evidence_key'))
    )
    with op.batch_alter_table('credit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_events_appeal_status'), ['appeal_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_events_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_credit_events_supplier_year', ['supplier_id', 'year'], unique=False)

    op.create_table('offer_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('freeze', 'delist', 'restore', name='offer_action_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=False),
    sa.Column('to_status', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_offer_actions_alert_id_alerts')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_actions_offer_id_offers')),
    sa.ForeignKeyConstraint(['rule_id'], ['price_rules.id'], name=op.f('fk_offer_actions_rule_id_price_rules')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_offer_actions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_actions'))
    )
    with op.batch_alter_table('offer_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_actions_offer_id'), ['offer_id'], unique=False)

    op.create_table('price_rule_hits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reference', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Enum('alert', 'freeze', 'delist', name='price_rule_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_price_rule_hits_alert_id_alerts')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_price_rule_hits_offer_id_offers')),
    sa.ForeignKeyConstraint(['rule_id'], ['price_rules.id'], name=op.f('fk_price_rule_hits_rule_id_price_rules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_rule_hits')),
    sa.UniqueConstraint('rule_id', 'offer_id', 'price', name=op.f('uq_price_rule_hits_rule_id_offer_id_price'))
    )
    with op.batch_alter_table('price_rule_hits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_rule_hits_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_rule_hits_offer_id'), ['offer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('price_rule_hits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_rule_hits_offer_id'))
        batch_op.drop_index(batch_op.f('ix_price_rule_hits_created_at'))

    op.drop_table('price_rule_hits')
    with op.batch_alter_table('offer_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_actions_offer_id'))

    op.drop_table('offer_actions')
    with op.batch_alter_table('credit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_events_supplier_year')
        batch_op.drop_index(batch_op.f('ix_credit_events_order_id'))
        batch_op.drop_index(batch_op.f('ix_credit_events_appeal_status'))

    op.drop_table('credit_events')
    op.drop_table('price_rules')

    # Nothing may keep the values that are going away.
    op.execute("UPDATE offers SET status = 'delisted' WHERE status = 'frozen'")
    op.execute("DELETE FROM alerts WHERE kind = 'price_rise'")
    _change_enum('alerts', 'kind', 'alert_kind', ALERT_KINDS + ('price_rise',), ALERT_KINDS)
    _change_enum('offers', 'status', 'offer_status', OFFER_STATUSES + ('frozen',), OFFER_STATUSES)
