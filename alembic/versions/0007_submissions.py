"""Codes reported by players: the reports, blocked reporters, and the moderators' posts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('game', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('code_key', sa.String(length=64), nullable=False),
    sa.Column('rewards', sa.Text(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('reporter_id', sa.String(length=64), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=True),
    sa.Column('space_id', sa.String(length=64), nullable=True),
    sa.Column('credit', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_name', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['code_id'], ['codes.id'],
                            name=op.f('fk_submissions_code_id_codes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions'))
    )
    op.create_index('ix_submissions_code', 'submissions', ['game', 'code_key'], unique=False)
    op.create_index('ix_submissions_reporter', 'submissions',
                    ['platform', 'reporter_id', 'created_at'], unique=False)
    op.create_index('ix_submissions_state', 'submissions', ['state'], unique=False)
    op.create_table('reporters',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('blocked_by', sa.String(length=100), nullable=True),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('platform', 'user_id', name=op.f('pk_reporters'))
    )
    op.create_table('moderation_posts',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=True),
    sa.Column('shown', sa.String(length=16), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'],
                            name=op.f('fk_moderation_posts_submission_id_submissions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', 'platform', name=op.f('pk_moderation_posts'))
    )


def downgrade() -> None:
    op.drop_table('moderation_posts')
    op.drop_table('reporters')
    op.drop_index('ix_submissions_state', table_name='submissions')
    op.drop_index('ix_submissions_reporter', table_name='submissions')
    op.drop_index('ix_submissions_code', table_name='submissions')
    op.drop_table('submissions')
