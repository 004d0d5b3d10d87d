"""global search: the word vocabulary and trigram indexes

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 07:05:00.000000

On both databases: the ``search_words`` table and the three indexes of
``fiberdesk.db.models.search``. On PostgreSQL the indexes are GIN trigram indexes
(``pg_trgm``, created here if missing), a trigger keeps ``search_words`` filled from every
customer's name and service address, and the words of the customers already there are
loaded. On SQLite the indexes are plain B-tree indexes and the table stays empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the words of a name and an address: runs of letters and digits, lower case, 2 to 64
#: characters, not only digits (house numbers and ZIP codes are matched as typed)
WORDS = (
    "SELECT DISTINCT w FROM regexp_split_to_table(lower({text}), '[^[:alnum:]]+') AS w "
    "WHERE length(w) BETWEEN 2 AND 64 AND w !~ '^[0-9]+$'"
)
TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION fd_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    {WORDS.format(text="coalesce(NEW.name, '') || ' ' || coalesce(NEW.service_address, '')")}
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$
"""
TRIGGER = (
    "CREATE TRIGGER customers_search_words AFTER INSERT OR UPDATE OF name, service_address "
    "ON customers FOR EACH ROW EXECUTE FUNCTION fd_search_words()"
)


def _gin(name: str, table: str, column: str) -> None:
    op.create_index(
        name,
        table,
        [column],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "search_words",
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    _gin("ix_search_words_trgm", "search_words", "word")
    _gin("ix_customers_name_trgm", "customers", "name")
    _gin("ix_customers_address_trgm", "customers", "service_address")
    if postgres:
        op.execute(TRIGGER_FUNCTION)
        op.execute(TRIGGER)
        op.execute(
            "INSERT INTO search_words (word) SELECT DISTINCT w FROM customers, "
            "regexp_split_to_table(lower(name || ' ' || service_address), '[^[:alnum:]]+') "
            "AS w WHERE length(w) BETWEEN 2 AND 64 AND w !~ '^[0-9]+$' ON CONFLICT DO NOTHING"
        )
        op.execute("ANALYZE search_words")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS customers_search_words ON customers")
        op.execute("DROP FUNCTION IF EXISTS fd_search_words()")
    op.drop_index("ix_customers_address_trgm", table_name="customers")
    op.drop_index("ix_customers_name_trgm", table_name="customers")
    op.drop_index("ix_search_words_trgm", table_name="search_words")
    op.drop_table("search_words")
