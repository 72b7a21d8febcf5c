"""Registering and finding definitions: workflows, workbooks and ad-hoc actions.

A document is parsed and validated once, when it is registered; each workflow's spec
is stored as JSON under the hash of its content and executions refer to that, so a
running execution keeps its spec when the definition is updated.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from meltemi.actions import ActionDescriptor, ActionRegistry
from meltemi.actions.adhoc import adhoc_descriptor
from meltemi.lang import (
    ActionSpec,
    Document,
    DocumentKind,
    WorkflowSpec,
    load,
    parse,
    render_diagnostics,
    spec_from_json,
    spec_to_json,
)
from meltemi.persistence.db import Database
from meltemi.persistence.models import (
    ActionDefinitionRow,
    SpecRow,
    WorkbookRow,
    WorkflowDefinitionRow,
    table,
)
from meltemi.services._members import (
    changes,
    check_no_triggers,
    input_text,
    member_text,
    now_second,
    save_actions,
)
from meltemi.services.errors import Duplicate, InvalidInput, NotFound
from meltemi.services.listing import Listing, ListQuery

_ADHOC_TTL = 10.0
_MAX_ADHOC_DEPTH = 20

WORKFLOWS = table(WorkflowDefinitionRow)
SPECS = table(SpecRow)
WORKBOOKS = table(WorkbookRow)
ACTIONS = table(ActionDefinitionRow)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowDefinition:
    id: str
    name: str
    namespace: str
    definition: str
    spec_id: str
    checksum: str
    input: str
    interface: dict[str, Any]
    tags: list[str]
    scope: str
    project_id: str
    workbook_name: str | None
    created_at: datetime
    updated_at: datetime | None


def _workflow(row: Any) -> WorkflowDefinition:
    return WorkflowDefinition(
        id=row.id,
        name=row.name,
        namespace=row.namespace,
        definition=row.definition,
        spec_id=row.spec_id,
        checksum=row.checksum,
        input=row.input,
        interface=row.interface or {},
        tags=list(row.tags or []),
        scope=row.scope,
        project_id=row.project_id,
        workbook_name=row.workbook_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _interface(spec: WorkflowSpec) -> dict[str, Any]:
    return {
        "input": [p.name if p.required else {p.name: p.default} for p in spec.input],
        "output": list(spec.output),
    }


class SpecCache:
    """Parsed specs by id (most used stay in memory)."""

    def __init__(self, limit: int = 512) -> None:
        self._specs: dict[str, WorkflowSpec] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, spec_id: str, load_json: Callable[[], Any]) -> WorkflowSpec:
        with self._lock:
            found = self._specs.get(spec_id)
        if found is not None:
            return found
        spec = spec_from_json(WorkflowSpec, load_json())
        with self._lock:
            if len(self._specs) >= self._limit:
                self._specs.pop(next(iter(self._specs)))
            self._specs[spec_id] = spec
        return spec

    def put(self, spec_id: str, spec: WorkflowSpec) -> None:
        with self._lock:
            self._specs[spec_id] = spec


WORKFLOW_LISTING = Listing(
    WORKFLOWS, {c.name: c for c in WORKFLOWS.columns if c.name not in ("spec_id",)}
)
WORKBOOK_LISTING = Listing(WORKBOOKS, {c.name: c for c in WORKBOOKS.columns})
ACTION_LISTING = Listing(
    ACTIONS, {c.name: c for c in ACTIONS.columns if c.name != "spec"}, default_sort=("name",)
)


class Definitions:
    """Workflows, workbooks and ad-hoc actions stored in the database."""

    def __init__(self, db: Database, specs: SpecCache | None = None) -> None:
        self.db = db
        self.specs = specs or SpecCache()
        self._adhoc: dict[tuple[str, str], tuple[float, ActionDescriptor | None]] = {}

    # -- ad-hoc actions for the executor -----------------------------------------------

    def action_resolver(
        self, registry: ActionRegistry
    ) -> Callable[[str, str], ActionDescriptor | None]:
        """Finds stored ad-hoc actions by name (namespace first, then the default one)."""

        def resolve(name: str, namespace: str, depth: int = 0) -> ActionDescriptor | None:
            key = (name, namespace)
            cached = self._adhoc.get(key)
            if cached is not None and time.monotonic() - cached[0] < _ADHOC_TTL:
                return cached[1]
            found = None
            if depth < _MAX_ADHOC_DEPTH:
                with self.db.read() as conn:
                    row = None
                    for ns in dict.fromkeys((namespace, "")):
                        row = conn.execute(
                            sa.select(ACTIONS.c.spec, ACTIONS.c.workbook_name).where(
                                ACTIONS.c.name == name, ACTIONS.c.namespace == ns
                            )
                        ).first()
                        if row is not None:
                            break
                if row is not None:
                    spec = spec_from_json(ActionSpec, row[0])
                    base = registry.builtin_named(spec.base)
                    if base is None and row[1]:  # a sibling in the same workbook first
                        base = resolve(f"{row[1]}.{spec.base}", namespace, depth + 1)
                    if base is None:
                        base = resolve(spec.base, namespace, depth + 1)
                    if base is not None:
                        found = adhoc_descriptor(name, spec, base)
            self._adhoc[key] = (time.monotonic(), found)
            return found

        return lambda name, namespace: resolve(name, namespace)

    def forget_actions(self) -> None:
        self._adhoc.clear()

    # -- specs ---------------------------------------------------------------------------

    def spec(self, spec_id: str, conn: Connection | None = None) -> WorkflowSpec:
        def load_json() -> Any:
            if conn is not None:
                return self._spec_json(conn, spec_id)
            with self.db.read() as c:
                return self._spec_json(c, spec_id)

        return self.specs.get(spec_id, load_json)

    @staticmethod
    def _spec_json(conn: Connection, spec_id: str) -> Any:
        row = conn.execute(sa.select(SPECS.c.spec).where(SPECS.c.id == spec_id)).scalar()
        if row is None:
            raise NotFound(f"workflow spec {spec_id} is missing from the database")
        return row

    def _store_spec(self, conn: Connection, spec: WorkflowSpec) -> str:
        data = spec_to_json(spec)
        spec_id = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
        exists = conn.execute(sa.select(SPECS.c.id).where(SPECS.c.id == spec_id)).scalar()
        if exists is None:
            conn.execute(
                SPECS.insert().values(
                    id=spec_id, name=spec.name, spec=data, created_at=now_second()
                )
            )
        self.specs.put(spec_id, spec)
        return spec_id

    # -- workflows -----------------------------------------------------------------------

    def parse(self, text: str, kind: DocumentKind, file: str = "<definition>") -> Document:
        """Parses a definition; raises lang.DefinitionError when it is not valid."""
        return load(text, file, kind=kind)

    def create_workflows(
        self,
        text: str,
        *,
        namespace: str = "",
        scope: str = "private",
        file: str = "<definition>",
    ) -> list[WorkflowDefinition]:
        document = self.parse(text, DocumentKind.WORKFLOWS, file)
        if document.kind is not DocumentKind.WORKFLOWS or not document.workflows:
            raise InvalidInput("the document defines no workflows (is it a workbook?)")
        with self.db.write() as conn:
            return self._save_workflows(
                conn, text, document.workflows, namespace, scope, None, update=False
            )

    def update_workflows(
        self,
        text: str,
        *,
        namespace: str = "",
        scope: str = "private",
        identifier: str | None = None,
    ) -> list[WorkflowDefinition]:
        document = self.parse(text, DocumentKind.WORKFLOWS)
        if identifier is not None and len(document.workflows) != 1:
            raise InvalidInput(
                "an update by id takes a document with exactly one workflow; "
                f"this one has {len(document.workflows)}"
            )
        with self.db.write() as conn:
            if identifier is not None:
                existing = self._find(conn, identifier, namespace)
                if existing is None:
                    raise NotFound(f"Workflow not found [workflow_identifier={identifier}]")
            return self._save_workflows(
                conn,
                text,
                document.workflows,
                namespace,
                scope,
                None,
                update=True,
                identifier=identifier,
            )

    def _save_workflows(
        self,
        conn: Connection,
        text: str,
        workflows: Sequence[WorkflowSpec],
        namespace: str,
        scope: str,
        workbook: str | None,
        *,
        update: bool | None,
        identifier: str | None = None,
        bodies: dict[str, Any] | None = None,
    ) -> list[WorkflowDefinition]:
        """Inserts (update False), updates (True) or upserts (None) the workflows."""
        saved = []
        single = len(workflows) == 1 and workbook is None
        raw = None if single or bodies is not None else yaml.safe_load(text)
        for spec in workflows:
            name = f"{workbook}.{spec.name}" if workbook else spec.name
            if single:
                definition = text
            else:
                body = (bodies or raw or {}).get(spec.name)
                definition = member_text(name if workbook is None else spec.name, body)
            spec_id = self._store_spec(conn, spec)
            values = {
                "definition": definition,
                "spec_id": spec_id,
                "checksum": hashlib.md5(definition.encode(), usedforsecurity=False).hexdigest(),
                "input": input_text(spec),
                "interface": _interface(spec),
                "tags": list(spec.tags),
                "scope": scope,
                "workbook_name": workbook,
            }
            existing = (
                self._find(conn, identifier, namespace)
                if identifier is not None
                else self._by_name(conn, name, namespace)
            )
            if existing is not None and update is False:
                raise Duplicate(
                    f"Duplicate entry for WorkflowDefinition ['name', 'namespace', 'project_id']:"
                    f" {name}, {namespace or '(default)'}: a workflow with this name exists; "
                    "update it instead (PUT) or delete it first"
                )
            if existing is None and update is True:
                raise NotFound(f"Workflow not found [workflow_identifier={name}]")
            now = now_second()
            if existing is None:
                wf_id = str(uuid.uuid4())
                conn.execute(
                    WORKFLOWS.insert().values(
                        id=wf_id, name=name, namespace=namespace, created_at=now, **values
                    )
                )
            else:
                wf_id = existing.id
                if changes(existing, values):
                    conn.execute(
                        WORKFLOWS.update()
                        .where(WORKFLOWS.c.id == wf_id)
                        .values(updated_at=now, **values)
                    )
            row = conn.execute(sa.select(WORKFLOWS).where(WORKFLOWS.c.id == wf_id)).first()
            saved.append(_workflow(row))
        return saved

    @staticmethod
    def _by_name(conn: Connection, name: str, namespace: str) -> Any:
        return conn.execute(
            sa.select(WORKFLOWS).where(WORKFLOWS.c.name == name, WORKFLOWS.c.namespace == namespace)
        ).first()

    def _find(self, conn: Connection, identifier: str, namespace: str) -> Any:
        row = conn.execute(sa.select(WORKFLOWS).where(WORKFLOWS.c.id == identifier)).first()
        return row if row is not None else self._by_name(conn, identifier, namespace)

    def get_workflow(
        self, identifier: str, namespace: str = "", conn: Connection | None = None
    ) -> WorkflowDefinition:
        """A workflow by id or by name (in the given namespace)."""
        if conn is None:
            with self.db.read() as c:
                row = self._find(c, identifier, namespace)
        else:
            row = self._find(conn, identifier, namespace)
        if row is None:
            where = f", namespace={namespace}" if namespace else ""
            raise NotFound(f"Workflow not found [workflow_identifier={identifier}{where}]")
        return _workflow(row)

    def resolve_workflow(
        self,
        name: str,
        *,
        namespace: str,
        workbook: str | None,
        conn: Connection | None = None,
    ) -> WorkflowDefinition:
        """A sub-workflow as a task names it: the workbook's own member first, then the
        name in the caller's namespace, then in the default namespace."""
        candidates = []
        if workbook:
            candidates.append((f"{workbook}.{name}", namespace))
        candidates.append((name, namespace))
        if namespace:
            candidates.append((name, ""))

        def lookup(c: Connection) -> Any:
            for candidate, ns in candidates:
                row = self._by_name(c, candidate, ns)
                if row is not None:
                    return row
            return c.execute(sa.select(WORKFLOWS).where(WORKFLOWS.c.id == name)).first()

        if conn is None:
            with self.db.read() as c:
                row = lookup(c)
        else:
            row = lookup(conn)
        if row is None:
            where = f", namespace={namespace}" if namespace else ""
            raise NotFound(f"Workflow not found [workflow_identifier={name}{where}]")
        return _workflow(row)

    def list_workflows(self, query: ListQuery, max_limit: int = 1000) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return WORKFLOW_LISTING.fetch(conn, query, max_limit=max_limit)

    def validate(self, text: str, kind: DocumentKind) -> str | None:
        """None when the text is a valid document of that kind, else the errors."""
        result = parse(text, "<definition>", kind=kind)
        if result.is_valid() and result.document is not None:
            if result.document.kind is not kind:
                return f"the document is not a {kind.value} document"
            return None
        return render_diagnostics(result.errors, result.source)

    def delete_workflow(self, identifier: str, namespace: str = "") -> None:
        with self.db.write() as conn:
            row = self._find(conn, identifier, namespace)
            if row is None:
                raise NotFound(f"Workflow not found [workflow_identifier={identifier}]")
            check_no_triggers(conn, [row.id], identifier, namespace)
            conn.execute(WORKFLOWS.delete().where(WORKFLOWS.c.id == row.id))

    # -- workbooks -------------------------------------------------------------------------

    def create_workbook(
        self, text: str, *, namespace: str = "", scope: str = "private", update: bool = False
    ) -> Document:
        document = self.parse(text, DocumentKind.WORKBOOK)
        name = document.name or ""
        raw = yaml.safe_load(text)
        bodies = raw.get("workflows") or {}
        now = now_second()
        with self.db.write() as conn:
            current = conn.execute(
                sa.select(WORKBOOKS).where(
                    WORKBOOKS.c.name == name, WORKBOOKS.c.namespace == namespace
                )
            ).first()
            existing = current.id if current is not None else None
            if existing is not None and not update:
                raise Duplicate(f"Duplicate entry for Workbook: {name}; update it instead")
            if existing is None and update:
                raise NotFound(f"Workbook not found [name={name}]")
            if existing is None:
                conn.execute(
                    WORKBOOKS.insert().values(
                        id=str(uuid.uuid4()),
                        name=name,
                        namespace=namespace,
                        definition=text,
                        tags=list(document.tags),
                        scope=scope,
                        created_at=now,
                    )
                )
            else:
                values = {"definition": text, "tags": list(document.tags), "scope": scope}
                if changes(current, values):
                    conn.execute(
                        WORKBOOKS.update()
                        .where(WORKBOOKS.c.id == existing)
                        .values(updated_at=now, **values)
                    )
            self._save_workflows(
                conn,
                text,
                document.workflows,
                namespace,
                scope,
                name,
                # Upserts, also for a new workbook: a deleted workbook leaves its
                # members behind (as in Mistral), and a workbook of the same name
                # takes them over.
                update=None,
                bodies=bodies,
            )
            save_actions(
                conn,
                document.actions,
                raw.get("actions") or {},
                namespace,
                scope,
                name,
                mode="upsert",
            )
        self.forget_actions()
        return document

    def create_actions(
        self,
        text: str,
        *,
        namespace: str = "",
        scope: str = "private",
        update: bool = False,
        identifier: str | None = None,
    ) -> list[str]:
        """Registers (or with ``update`` changes) the ad-hoc actions of a document;
        returns their ids."""
        document = self.parse(text, DocumentKind.ACTIONS)
        if not document.actions:
            raise InvalidInput("the document defines no actions")
        if identifier is not None and len(document.actions) != 1:
            raise InvalidInput(
                "an update by id takes a document with exactly one action; "
                f"this one has {len(document.actions)}"
            )
        raw = yaml.safe_load(text)
        with self.db.write() as conn:
            ids = save_actions(
                conn,
                document.actions,
                raw,
                namespace,
                scope,
                None,
                mode="update" if update else "create",
                identifier=identifier,
            )
        self.forget_actions()
        return ids
