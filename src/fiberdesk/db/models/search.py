"""What global search needs beyond the tables it searches (migration 0011).

``search_words`` is the vocabulary of the words in customers' names and service addresses,
lower case, without pure numbers. On PostgreSQL a trigger on ``customers`` keeps it filled
(words are never removed: a word no longer used just finds nothing), and a trigram index
on it corrects a misspelt word in well under a millisecond; the corrected words are then
looked up in ``customers`` through trigram indexes on ``name`` and ``service_address``.
On SQLite the table stays empty and search ranks ``LIKE`` candidates in Python; there the
"trigram" indexes are plain B-tree indexes on the same columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base
from fiberdesk.db.models.customers import Customer

#: the longest word kept in the vocabulary
WORD_LENGTH = 64


class SearchWord(Base):
    __tablename__ = "search_words"
    __table_args__ = (
        sa.Index(
            "ix_search_words_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
    )
    word: Mapped[str] = mapped_column(sa.String(WORD_LENGTH), primary_key=True)


#: trigram indexes on the searched columns of ``customers`` (B-tree indexes on SQLite)
CUSTOMER_NAME_TRGM = sa.Index(
    "ix_customers_name_trgm",
    Customer.__table__.c.name,
    postgresql_using="gin",
    postgresql_ops={"name": "gin_trgm_ops"},
)
CUSTOMER_ADDRESS_TRGM = sa.Index(
    "ix_customers_address_trgm",
    Customer.__table__.c.service_address,
    postgresql_using="gin",
    postgresql_ops={"service_address": "gin_trgm_ops"},
)
