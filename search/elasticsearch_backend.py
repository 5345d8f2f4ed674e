"""The Elasticsearch backend (production): the official ``elasticsearch`` client v9.

Layout on the cluster, for ``index_prefix="products"``:

- ``products-<UTC timestamp>``: the concrete index (search/es_mapping.py: settings + mappings);
- ``products``: the read alias, every search and ``mget`` goes through it;
- ``products-write``: the write alias, every live ``index()`` goes through it (``require_alias``,
  so a missing alias is an error instead of an auto-created index);
- ``products-rebuilding``: only while a rebuild runs, on the index being built. Live ``index()``
  calls write there too, so a change committed during the rebuild is never lost by the swap;
  external versions make the double write safe in any order;
- ``products-lock``: a one-document index holding the rebuild lock (``op_type=create``).

Request bodies are built and parsed by pure functions in search/es_query.py.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import (
    ApiError,
    BadRequestError,
    ConflictError,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)

from search.backend import SearchError
from search.es_mapping import index_actions, index_body
from search.es_query import (
    build_search_body,
    build_supplier_count_body,
    parse_search_response,
    parse_supplier_counts,
    truncated_hits,
)
from search.model import ProductDoc, SearchQuery, SearchResult

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"[a-z0-9][a-z0-9_.-]{0,200}")
LOCK_ID = "rebuild"
LOCK_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "owner": {"type": "keyword"},
        "purpose": {"type": "keyword"},
        "heartbeat_at": {"type": "date"},
    },
}


class ElasticsearchBackend:
    """search.backend.SearchBackend on an Elasticsearch cluster."""

    name = "elasticsearch"

    def __init__(
        self,
        client: Elasticsearch,
        index_prefix: str = "products",
        *,
        chunk_size: int = 500,
        lock_ttl: timedelta = timedelta(minutes=30),
        lock_wait: float = 30.0,
    ) -> None:
        if not _PREFIX.fullmatch(index_prefix):
            raise ValueError(f"index prefix {index_prefix!r}: lowercase letters, digits, '_', '.', '-'")
        self.client = client
        self.index_prefix = index_prefix
        self.read_alias = index_prefix
        self.write_alias = f"{index_prefix}-write"
        self.rebuild_alias = f"{index_prefix}-rebuilding"
        self.lock_index = f"{index_prefix}-lock"
        self.chunk_size = chunk_size
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait

    @classmethod
    def from_url(cls, url: str, index_prefix: str = "products", **options: Any) -> ElasticsearchBackend:
        """A backend on a fresh client for ``url`` (e.g. ``http://127.0.0.1:9200``)."""
        client = Elasticsearch(url, request_timeout=10, retry_on_timeout=True, max_retries=2)
        return cls(client, index_prefix, **options)

    # -----------------------------------------------------------------------------------------
    # SearchBackend

    def ensure_index(self) -> None:
        with self._errors("ensure_index"):
            if self.client.indices.exists_alias(name=self.read_alias):
                return
            # Two processes starting at once must not create two indices behind one alias.
            with self._locked("ensure_index", wait=self.lock_wait):
                if self.client.indices.exists_alias(name=self.read_alias):
                    return
                self.client.indices.create(
                    index=self.new_index_name(),
                    **index_body(),
                    aliases={self.read_alias: {}, self.write_alias: {"is_write_index": True}},
                )

    def index(self, docs: Sequence[ProductDoc]) -> int:
        docs = list(docs)
        if not docs:
            return 0
        with self._errors("index"):
            # A rebuild is loading a new index: write there too, or the swap would lose this
            # change. Checked BEFORE writing: a rebuild that starts after the check reads the rows
            # after our commit anyway. A 409 there means the rebuild already holds a newer version;
            # a missing alias means it ended meanwhile (the write alias then already points at it).
            rebuilding = bool(self.client.indices.exists_alias(name=self.rebuild_alias))
            written, _conflicts, errors = self._bulk(
                index_actions(docs, self.write_alias), require_alias=True
            )
            _raise_bulk_errors("index", errors)
            if rebuilding:
                _w, _c, errors = self._bulk(index_actions(docs, self.rebuild_alias), require_alias=True)
                _raise_bulk_errors(
                    "index (into the index being rebuilt)",
                    [e for e in errors if _error_type(e) != "index_not_found_exception"],
                )
        return written

    def search(self, query: SearchQuery) -> SearchResult:
        with self._errors("search"):
            response = self.client.search(index=self.read_alias, body=build_search_body(query)).body
            counts: dict[int, int] = {}
            truncated = truncated_hits(response)
            if truncated:
                body = build_supplier_count_body(query, truncated)
                counts = parse_supplier_counts(self.client.search(index=self.read_alias, body=body).body)
        return parse_search_response(query, response, counts)

    def rebuild(self, docs: Iterable[ProductDoc]) -> int:
        """Load ``docs`` into a new index, then swap the read and write aliases to it in one
        atomic ``update_aliases`` and delete the old index. Pass a lazy iterable that reads the
        rows while it is consumed: a change committed before the new index exists is then read
        by the rebuild, and one committed after it is written into it by ``index()``."""
        with self._errors("rebuild"), self._locked("rebuild", wait=0) as lock:
            old_read = self._aliased(self.read_alias)
            old_write = self._aliased(self.write_alias)
            # Left over from a rebuild that died (we hold the lock, so none is running).
            orphans = [i for i in self._aliased(self.rebuild_alias) if i not in old_read + old_write]
            if orphans:
                log.warning("deleting indices left by an interrupted rebuild: %s", orphans)
                self.client.indices.delete(index=orphans)
            new = self.new_index_name()
            self.client.indices.create(index=new, **index_body(), aliases={self.rebuild_alias: {}})
            try:
                written, conflicts, errors = self._bulk(index_actions(docs, new), heartbeat=lock.renew)
                _raise_bulk_errors("rebuild", errors)
                self.client.indices.refresh(index=new)
                lock.renew(force=True)  # still ours: nobody took over an expired lock
            except BaseException:
                self._delete_quietly([new])
                raise
            try:
                self.client.indices.update_aliases(actions=self._swap_actions(old_read, old_write, new))
            except BaseException:
                # A timeout may hide a swap that happened: never delete an index that is live.
                if new not in self._aliased(self.read_alias):
                    self._delete_quietly([new])
                raise
            old = sorted(set(old_read + old_write))
            if old:
                self._delete_quietly(old)
            log.info("rebuilt %s: %d documents (%d already newer)", new, written, conflicts)
            return written

    def refresh(self) -> None:
        with self._errors("refresh"):
            self.client.indices.refresh(index=self.read_alias)

    def status(self) -> dict:
        with self._errors("status"):
            aliases = {
                alias: self._aliased(alias)
                for alias in (self.read_alias, self.write_alias, self.rebuild_alias)
            }
            indices = aliases[self.read_alias]
            status: dict[str, Any] = {
                "backend": self.name,
                "index": indices[0] if len(indices) == 1 else None,
                "aliases": aliases,
                "rebuilding": bool(aliases[self.rebuild_alias]),
                "products": 0,
                "active_products": 0,
                "offers": 0,
                "max_version": 0,
            }
            if not indices:
                return status
            response = self.client.search(
                index=self.read_alias,
                body={
                    "size": 0,
                    "track_total_hits": True,
                    "aggs": {
                        "active": {"filter": {"term": {"active": True}}},
                        "offers": {"nested": {"path": "offers"}},
                        "max_version": {"max": {"field": "version"}},
                    },
                },
            ).body
        aggs = response["aggregations"]
        max_version = aggs["max_version"]["value"]
        status["products"] = int(response["hits"]["total"]["value"])  # root documents, not offers
        status["active_products"] = int(aggs["active"]["doc_count"])
        status["offers"] = int(aggs["offers"]["doc_count"])
        status["max_version"] = int(max_version or 0)
        return status

    def indexed_versions(self, product_ids: Sequence[int]) -> dict[int, int]:
        ids = sorted({int(pid) for pid in product_ids})
        if not ids:
            return {}
        with self._errors("indexed_versions"):
            response = self.client.mget(index=self.read_alias, ids=[str(pid) for pid in ids], source=False)
        return {int(doc["_id"]): int(doc["_version"]) for doc in response["docs"] if doc.get("found")}

    def drop(self) -> None:
        """Delete every index of this prefix, by name (tests; decommissioning). Wildcard deletes
        are refused by default (``action.destructive_requires_name``)."""
        with self._errors("drop"):
            indices = {
                index
                for alias in (self.read_alias, self.write_alias, self.rebuild_alias)
                for index in self._aliased(alias)
            }
            if self.client.indices.exists(index=self.lock_index):
                indices.add(self.lock_index)
            if indices:
                self.client.indices.delete(index=sorted(indices))

    # -----------------------------------------------------------------------------------------
    # Helpers

    def new_index_name(self) -> str:
        return f"{self.index_prefix}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    def _swap_actions(self, old_read: list[str], old_write: list[str], new: str) -> list[dict[str, Any]]:
        """One atomic alias update: both aliases leave the old index and point at the new one."""
        actions: list[dict[str, Any]] = [
            {"remove": {"index": old, "alias": self.read_alias, "must_exist": True}} for old in old_read
        ]
        actions += [
            {"remove": {"index": old, "alias": self.write_alias, "must_exist": True}} for old in old_write
        ]
        actions += [
            {"add": {"index": new, "alias": self.read_alias}},
            {"add": {"index": new, "alias": self.write_alias, "is_write_index": True}},
            {"remove": {"index": new, "alias": self.rebuild_alias, "must_exist": True}},
        ]
        return actions

    def _aliased(self, alias: str) -> list[str]:
        """The indices behind ``alias`` (none when it does not exist)."""
        try:
            response = self.client.indices.get_alias(name=alias)
        except NotFoundError:
            return []
        return sorted(response.body)

    def _bulk(
        self,
        actions: Iterable[dict[str, Any]],
        *,
        require_alias: bool = False,
        heartbeat: Callable[[], None] | None = None,
    ) -> tuple[int, int, list[dict[str, Any]]]:
        """Send ``actions``; returns (written, version conflicts, other errors). A 409 is a newer
        version already indexed: the document is skipped, not an error."""
        written = conflicts = 0
        errors: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"require_alias": True} if require_alias else {}
        for ok, item in helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=self.chunk_size,
            raise_on_error=False,
            max_retries=3,  # 429: the cluster asks to slow down
            **kwargs,
        ):
            info = next(iter(item.values()))
            if ok:
                written += 1
            elif info.get("status") == 409:
                conflicts += 1
            else:
                errors.append(info)
            if heartbeat is not None:
                heartbeat()
        return written, conflicts, errors

    def _delete_quietly(self, indices: list[str]) -> None:
        try:
            self.client.indices.delete(index=indices)
        except (ApiError, TransportError):
            log.exception("could not delete index %s; delete it by hand", indices)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except SearchError:
            raise
        except NotFoundError as exc:
            raise SearchError(
                f"Elasticsearch {action}: index or alias missing ({exc.message}); "
                f"create it with ensure_index() or rebuild()"
            ) from exc
        except ApiError as exc:
            raise SearchError(f"Elasticsearch {action} failed: HTTP {exc.meta.status} {exc.message}") from exc
        except TransportError as exc:  # connection refused, timeout, TLS, serialization
            raise SearchError(f"Elasticsearch is unreachable ({action}): {exc}") from exc

    @contextmanager
    def _locked(self, purpose: str, *, wait: float) -> Iterator[_IndexLock]:
        lock = _IndexLock(self.client, self.lock_index, purpose, self.lock_ttl)
        deadline = time.monotonic() + wait
        while not lock.acquire():
            if time.monotonic() >= deadline:
                raise SearchError(
                    f"cannot {purpose}: another rebuild holds the lock {self.lock_index}/{LOCK_ID} "
                    f"({lock.holder or 'unknown holder'})"
                )
            time.sleep(0.25)
        try:
            yield lock
        finally:
            lock.release()


class _IndexLock:
    """A lock document created with ``op_type=create`` (409 when held). A holder that died leaves
    it behind: it expires ``ttl`` after its last heartbeat and is then taken over with a
    compare-and-set (``if_seq_no``/``if_primary_term``); the rebuild renews it while loading, and
    a holder whose lock was taken over stops before swapping aliases."""

    def __init__(self, client: Elasticsearch, index: str, purpose: str, ttl: timedelta) -> None:
        self.client = client
        self.index = index
        self.purpose = purpose
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holder: str | None = None
        self._cas: tuple[int, int] | None = None
        self._renewed = 0.0

    def _document(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "purpose": self.purpose,
            "heartbeat_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }

    def _create_index(self) -> None:
        try:
            self.client.indices.create(
                index=self.index, settings={"number_of_shards": 1}, mappings=LOCK_MAPPINGS
            )
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise

    def acquire(self) -> bool:
        self._create_index()
        try:
            response = self.client.create(index=self.index, id=LOCK_ID, document=self._document())
        except ConflictError:
            try:
                current = self.client.get(index=self.index, id=LOCK_ID)
            except NotFoundError:
                return False  # released meanwhile: try again
            self.holder = current["_source"].get("owner")
            heartbeat = datetime.fromisoformat(current["_source"]["heartbeat_at"])
            if datetime.now(UTC) - heartbeat < self.ttl:
                return False
            log.warning("taking over the expired lock of %s", self.holder)
            try:
                response = self.client.index(
                    index=self.index,
                    id=LOCK_ID,
                    document=self._document(),
                    if_seq_no=current["_seq_no"],
                    if_primary_term=current["_primary_term"],
                )
            except ConflictError:
                return False
        self._cas = (response["_seq_no"], response["_primary_term"])
        self._renewed = time.monotonic()
        return True

    def renew(self, *, force: bool = False) -> None:
        """Move the heartbeat forward (at most every ttl/4 unless forced); raises SearchError
        when the lock is no longer ours."""
        if self._cas is None:
            raise SearchError("the rebuild lock is not held")
        if not force and time.monotonic() - self._renewed < self.ttl.total_seconds() / 4:
            return
        seq_no, primary_term = self._cas
        try:
            response = self.client.index(
                index=self.index,
                id=LOCK_ID,
                document=self._document(),
                if_seq_no=seq_no,
                if_primary_term=primary_term,
            )
        except (ConflictError, NotFoundError) as exc:
            raise SearchError("lost the rebuild lock (it expired and was taken over)") from exc
        self._cas = (response["_seq_no"], response["_primary_term"])
        self._renewed = time.monotonic()

    def release(self) -> None:
        if self._cas is None:
            return
        seq_no, primary_term = self._cas
        self._cas = None
        try:
            self.client.delete(index=self.index, id=LOCK_ID, if_seq_no=seq_no, if_primary_term=primary_term)
        except (ConflictError, NotFoundError):
            log.warning("the rebuild lock was taken over before it was released")
        except (ApiError, TransportError):
            log.exception("could not release the rebuild lock; it expires after %s", self.ttl)


def _error_type(info: dict[str, Any]) -> str | None:
    error = info.get("error")
    return error.get("type") if isinstance(error, dict) else None


def _raise_bulk_errors(action: str, errors: list[dict[str, Any]]) -> None:
    if not errors:
        return
    first = errors[0]
    error = first.get("error")
    reason = error.get("reason") if isinstance(error, dict) else error
    raise SearchError(
        f"Elasticsearch {action}: {len(errors)} document(s) failed; first: "
        f"id {first.get('_id')}, HTTP {first.get('status')}, {_error_type(first)}: {reason}"
    )
