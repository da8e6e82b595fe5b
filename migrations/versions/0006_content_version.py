"""content version: one row bumped by triggers in the same transaction as any change public pages show

Revision ID: 0006_content_version
Revises: 0005_orders
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

from marketplace import content_version

# revision identifiers, used by Alembic.
revision = '0006_content_version'
down_revision = '0005_orders'
branch_labels = None
depends_on = None

# The tables of this release; a later migration that adds a table installs its triggers itself.
TABLES = (
    'clause_results', 'cpv_codes', 'favourites', 'guidance_pages', 'inquiries', 'inquiry_attachments',
    'inquiry_messages', 'inquiry_sender_blocks', 'inquiry_threads', 'institutions', 'invoice_sequences',
    'invoices', 'legal_documents', 'legal_values', 'mark_applications', 'mark_attachments',
    'mark_number_counters', 'mark_reminders', 'mark_scores', 'offering_areas', 'offering_cpv',
    'offering_images', 'offering_prices', 'offering_reports', 'offerings', 'order_lines', 'order_messages',
    'order_sequences', 'orders', 'pes', 'pes_invitations', 'pes_memberships', 'pes_sales', 'pes_service_areas',
    'quality_marks', 'quotes', 'search_outbox', 'search_synonym_groups', 'users',
)


def upgrade():
    op.create_table('content_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version'))
    )
    content_version.install(op.get_bind(), TABLES)


def downgrade():
    content_version.uninstall(op.get_bind(), TABLES)
    op.drop_table('content_version')
