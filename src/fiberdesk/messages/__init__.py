"""Customer messages: the catalog of kinds and their templates (subject, text and HTML).

    from fiberdesk.messages import Branding, default_templates

    rendered = default_templates().render(
        "installation_confirmation", outbox_row.context, Branding.from_settings(settings)
    )

See ``docs/messages.md`` for every kind, when it is sent and how to edit its templates.
"""

from __future__ import annotations

from fiberdesk.messages.catalog import (
    BRANDING_FIELDS,
    CATALOG,
    ESSENTIAL,
    KINDS,
    MessageField,
    MessageKind,
)
from fiberdesk.messages.render import (
    Branding,
    Rendered,
    TemplateError,
    TemplateSet,
    default_templates,
    load_templates,
)

__all__ = [
    "BRANDING_FIELDS",
    "CATALOG",
    "ESSENTIAL",
    "KINDS",
    "Branding",
    "MessageField",
    "MessageKind",
    "Rendered",
    "TemplateError",
    "TemplateSet",
    "default_templates",
    "load_templates",
]
