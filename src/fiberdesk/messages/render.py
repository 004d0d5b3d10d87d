"""Rendering messages: one template set, checked when it is loaded, rendered per message.

Each kind is a directory ``templates/<kind>/`` with ``subject.txt``, ``body.txt`` and
``body.html``. Loading checks every file of every kind: each variable it uses must be a
declared field of the kind (``catalog``) or part of the operator's branding, so a typo in a
template stops the application at start-up instead of failing a message later. Rendering
checks the context: an unknown kind or a missing required field is ``InvalidInput``.

The HTML bodies are autoescaped; the text bodies and subjects are not (they are plain text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import meta, nodes

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.money import round_cents
from fiberdesk.messages.catalog import (
    BRANDING_FIELDS,
    CATALOG,
    SAMPLE_BRANDING,
    MessageField,
    MessageKind,
)

if TYPE_CHECKING:
    from fiberdesk.config import Settings

TEMPLATES = Path(__file__).parent / "templates"
FILES = ("subject.txt", "body.txt", "body.html")

_TERMS = {"M2M": "month to month"}
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


class TemplateError(Exception):
    """A template set that cannot be used: a missing file, bad syntax, an unknown field.

    Raised when the templates are loaded, never when a message is sent.
    """

    def __init__(self, reason: str, *, kind: str, file: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.file = file
        self.field = field


@dataclass(frozen=True, slots=True)
class Branding:
    """The operator's name and support contact, from the settings."""

    company_name: str
    support_phone: str
    support_email: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Branding:
        """The branding this installation is configured with."""
        return cls(settings.company_name, settings.support_phone, settings.support_email)

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in BRANDING_FIELDS}


SAMPLE = Branding(**SAMPLE_BRANDING)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


# -- filters -------------------------------------------------------------------------------


def _amount(value: object) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidInput(f"{value!r} is not an amount of money (give a decimal string)")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise InvalidInput(f"{value!r} is not an amount of money")
    return round_cents(amount)


def money(value: object, absolute: bool = False) -> str:
    """``"1234.5"`` as ``$1,234.50`` (``-$10.00`` for a credit, unless ``absolute``)."""
    amount = _amount(value)
    sign = "-" if amount < 0 and not absolute else ""
    return f"{sign}${abs(amount):,.2f}"


def is_credit(value: object) -> bool:
    """Jinja test: the amount is below zero (money owed to the customer)."""
    return _amount(value) < 0


def day(value: object) -> str:
    """An ISO date as ``Thursday, June 12, 2025``; anything else unchanged."""
    try:
        d = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{d:%A}, {d:%B} {d.day}, {d.year}"


def term(value: object) -> str:
    """A contract term code for people: ``M2M`` month to month, ``12M`` a 12-month contract."""
    code = str(value)
    if code in _TERMS:
        return _TERMS[code]
    if code.endswith("M") and code[:-1].isdigit():
        return f"{code[:-1]}-month contract"
    return code


#: how a field's value appears in a message, by its format (the tests hold templates to it)
def shown(f: MessageField, value: Any) -> list[str]:
    """The strings a rendered message shows for ``value`` of field ``f``."""
    if f.format == "money":
        return [money(value)]
    if f.format == "date":
        return [day(value)]
    if f.format == "term":
        return [term(value)]
    if f.format == "list":
        return [str(v) for v in value]
    if f.format == "lines":
        return [s for ln in value for s in (str(ln["description"]), money(ln["amount"]))]
    if f.format == "flag":
        return []
    return [str(value)]


# -- loading -------------------------------------------------------------------------------


def _environment(path: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(path),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    env.filters["day"] = day
    env.filters["term"] = term
    env.tests["credit"] = is_credit
    return env


def _variables(env: jinja2.Environment, name: str, kind: str, seen: set[str]) -> dict[str, str]:
    """Every variable ``name`` uses, with the file that uses it, following extends and
    includes (a base layout's variables count for each kind that extends it)."""
    if name in seen:
        return {}
    seen.add(name)
    try:
        source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        ast = env.parse(source, name=name)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"{kind}: {exc.name} is missing", kind=kind, file=name) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"{kind}: {name} line {exc.lineno}: {exc.message}", kind=kind, file=name
        ) from None
    # a child template's top-level imports are visible in its blocks, which meta misses
    imported = {node.target for node in ast.find_all(nodes.Import)} | {
        n if isinstance(n, str) else n[1]
        for node in ast.find_all(nodes.FromImport)
        for n in node.names
    }
    used = meta.find_undeclared_variables(ast) - imported
    found = dict.fromkeys(sorted(used), name)
    for ref in meta.find_referenced_templates(ast):
        if ref is None:
            raise TemplateError(
                f"{kind}: {name} names a template by a variable; name it literally",
                kind=kind,
                file=name,
            )
        found = _variables(env, ref, kind, seen) | found
    return found


def _check(env: jinja2.Environment, path: Path, spec: MessageKind) -> dict[str, jinja2.Template]:
    allowed = spec.field_names | set(BRANDING_FIELDS)
    templates = {}
    for file in FILES:
        name = f"{spec.name}/{file}"
        if not (path / spec.name / file).is_file():
            raise TemplateError(
                f"{spec.name}: {name} is missing (each kind needs {', '.join(FILES)})",
                kind=spec.name,
                file=name,
            )
        for var, where in _variables(env, name, spec.name, set()).items():
            if var not in allowed:
                raise TemplateError(
                    f"{spec.name}: {where} uses {var!r}, which is not a field of "
                    f"{spec.name} (its fields: {', '.join(sorted(spec.field_names))})",
                    kind=spec.name,
                    file=where,
                    field=var,
                )
        templates[file] = env.get_template(name)
    return templates


class TemplateSet:
    """The templates of every kind in the catalog, checked; render with ``render``."""

    def __init__(self, path: Path, catalog: Mapping[str, MessageKind] = CATALOG) -> None:
        self.path = path
        self.catalog = catalog
        env = _environment(path)
        if not path.is_dir():
            raise TemplateError(f"no template directory at {path}", kind="*", file=str(path))
        extra = sorted(
            p.name
            for p in path.iterdir()
            if p.is_dir() and not p.name.startswith(("_", ".")) and p.name not in catalog
        )
        if extra:
            raise TemplateError(
                f"{extra[0]}: a template directory for a kind the catalog does not know",
                kind=extra[0],
                file=extra[0],
            )
        self._templates = {kind: _check(env, path, spec) for kind, spec in catalog.items()}

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.catalog)

    def spec(self, kind: str) -> MessageKind:
        try:
            return self.catalog[kind]
        except KeyError:
            raise InvalidInput(f"there is no message kind {kind!r}", field="kind") from None

    def render(self, kind: str, context: Mapping[str, Any], branding: Branding) -> Rendered:
        """Render one message. Keys of ``context`` that are not fields of the kind are left
        out; the branding always comes from ``branding``, whatever the context says."""
        spec = self.spec(kind)
        values = _values(spec, context) | branding.as_dict()
        templates = self._templates[kind]
        try:
            subject = templates["subject.txt"].render(values)
            text = templates["body.txt"].render(values)
            html = templates["body.html"].render(values)
        except jinja2.UndefinedError as exc:
            raise InvalidInput(f"the {kind} message cannot be rendered: {exc.message}") from None
        except (TypeError, KeyError) as exc:
            raise InvalidInput(f"the {kind} message has a field of the wrong shape: {exc}") from exc
        return Rendered(
            subject=" ".join(subject.split()),
            text=_tidy(text),
            html=html.strip() + "\n",
        )

    def sample(self, kind: str, branding: Branding | None = None) -> Rendered:
        """The kind rendered with its sample data (and the sample branding by default)."""
        return self.render(kind, self.spec(kind).sample, branding or SAMPLE)


def _values(spec: MessageKind, context: Mapping[str, Any]) -> dict[str, Any]:
    missing = [f.name for f in spec.fields if f.required and context.get(f.name) is None]
    if missing:
        raise InvalidInput(
            f"the {spec.name} message needs {', '.join(missing)}",
            field=missing[0],
            extra={"missing": missing},
        )
    values = {f.name: context.get(f.name) for f in spec.fields}
    for f in spec.fields:
        _check_shape(spec.name, f, values[f.name])
    return values


def _check_shape(kind: str, f: MessageField, value: Any) -> None:
    if value is None:
        return
    if f.format == "money":
        _amount(value)
    elif f.format in ("list", "lines") and not isinstance(value, list | tuple):
        raise InvalidInput(f"the {kind} message's {f.name} must be a list", field=f.name)
    elif f.format == "lines" and not all(
        isinstance(ln, Mapping) and {"description", "amount"} <= set(ln) for ln in value
    ):
        raise InvalidInput(
            f"each of the {kind} message's {f.name} needs a description and an amount",
            field=f.name,
        )


def _tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one newline at the end."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_RUNS.sub("\n\n", lines) + "\n"


def load_templates(
    path: Path | str | None = None, catalog: Mapping[str, MessageKind] = CATALOG
) -> TemplateSet:
    """Load and check the templates (the bundled ones by default); ``TemplateError`` if any
    kind's files are missing, do not parse, or use a field the kind does not declare."""
    return TemplateSet(Path(path) if path is not None else TEMPLATES, catalog)


@lru_cache(maxsize=1)
def default_templates() -> TemplateSet:
    """The bundled templates, loaded and checked once per process."""
    return load_templates()
