"""The search contract runs against every available backend: tantivy always, Elasticsearch when
ELASTICSEARCH_URL points at a cluster (none can run on this machine)."""

from __future__ import annotations

import os
import uuid

import pytest

from search.tantivy_backend import TantivyBackend
from tests.search.catalog import contract_docs


def _backends() -> list[str]:
    names = ["tantivy"]
    if os.environ.get("ELASTICSEARCH_URL"):
        names.append("elasticsearch")
    return names


def make_backend(name: str, tmp_path):
    if name == "tantivy":
        return TantivyBackend(tmp_path / "index")
    from search.elasticsearch_backend import ElasticsearchBackend

    return ElasticsearchBackend.from_url(
        os.environ["ELASTICSEARCH_URL"], index_prefix=f"test-{uuid.uuid4().hex[:8]}"
    )


@pytest.fixture(scope="module", params=_backends())
def loaded_backend(request, tmp_path_factory):
    """A backend holding the contract catalogue, shared by the read-only tests of a module."""
    backend = make_backend(request.param, tmp_path_factory.mktemp(request.param))
    backend.ensure_index()
    backend.rebuild(contract_docs())
    backend.refresh()
    yield backend
    _drop(backend)


@pytest.fixture(params=_backends())
def empty_backend(request, tmp_path):
    backend = make_backend(request.param, tmp_path)
    backend.ensure_index()
    yield backend
    _drop(backend)


def _drop(backend) -> None:
    if backend.name == "elasticsearch":
        backend.drop()
