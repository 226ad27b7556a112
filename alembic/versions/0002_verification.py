"""Verification: each code's verdict from HoYoverse's redeem endpoint, its queue, the accounts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('codes') as batch:
        batch.add_column(
            sa.Column('verification', sa.String(length=16), nullable=False,
                      server_default='unverified')
        )
        batch.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('verify_answer', sa.Text(), nullable=True))
        batch.add_column(sa.Column('verify_account', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('verify_next_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column('verify_attempts', sa.Integer(), nullable=False, server_default='0')
        )
        batch.add_column(
            sa.Column('verify_not_active_since', sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_index('ix_codes_verify_next_at', ['verify_next_at'], unique=False)
    # The defaults were for the rows already there; the models set them from now on.
    with op.batch_alter_table('codes') as batch:
        batch.alter_column('verification', server_default=None)
        batch.alter_column('verify_attempts', server_default=None)
    op.create_table('verify_accounts',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('games', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('out_reason', sa.Text(), nullable=True),
    sa.Column('last_answer', sa.Text(), nullable=True),
    sa.Column('last_answer_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_redeem_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_verify_accounts'))
    )
    op.create_table('verify_families',
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('game', sa.String(length=32), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('code_key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('account', 'game', 'family', name=op.f('pk_verify_families'))
    )


def downgrade() -> None:
    op.drop_table('verify_families')
    op.drop_table('verify_accounts')
    with op.batch_alter_table('codes') as batch:
        batch.drop_index('ix_codes_verify_next_at')
        batch.drop_column('verify_not_active_since')
        batch.drop_column('verify_attempts')
        batch.drop_column('verify_next_at')
        batch.drop_column('verify_account')
        batch.drop_column('verify_answer')
        batch.drop_column('verified_at')
        batch.drop_column('verification')
