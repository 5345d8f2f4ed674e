"""Keeping the search index in step with the database.

Changes are captured on flush: every product touched (directly or through one of its offers) gets
its row version bumped and its ``search_dirty`` flag set in the same transaction. After commit, a
job re-reads those products and indexes their current state; it clears the flag only if the row
has not changed again meanwhile. A periodic sweeper re-indexes whatever is still dirty, so a lost
job heals. ``flask search rebuild`` builds a fresh index and swaps it in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from flask import Flask, current_app
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, attributes, selectinload

from app.auth.models import Organization
from app.catalog.models import Category, Offer, OfferStatus, Product
from app.core.db import utcnow
from app.core.jobs import enqueue_lazy, job
from app.extensions import db
from search import OfferDoc, ProductDoc, SearchBackend
from search.tantivy_backend import TantivyBackend

JOB = "app.catalog.indexing.reindex_products"
BATCH = 500
_TOUCHED = "search_touched_products"  # seen in before_flush, marked in after_flush
_PENDING = "search_pending_products"  # marked in this transaction, sent to the job at commit


# -- the backend -----------------------------------------------------------------------------------


def search_backend(app: Flask | None = None) -> SearchBackend:
    """The configured backend, one per app (it holds an open index or client)."""
    app = app or current_app
    backend = app.extensions.get("search_backend")
    if backend is None:
        if app.config["SEARCH_BACKEND"] == "elasticsearch":
            from search.elasticsearch_backend import ElasticsearchBackend

            backend = ElasticsearchBackend.from_url(app.config["ELASTICSEARCH_URL"])
        else:
            backend = TantivyBackend(app.config["SEARCH_INDEX_DIR"])
        backend.ensure_index()  # an empty index until the first rebuild, never a missing one
        app.extensions["search_backend"] = backend
    return backend


# -- documents -------------------------------------------------------------------------------------


def _category_paths(category_ids: Iterable[int]) -> dict[int, tuple[Category, tuple[str, ...]]]:
    """Each category with the codes of itself and its ancestors, root first."""
    wanted = set(category_ids)
    known: dict[int, Category] = {}
    frontier = set(wanted)
    while frontier:
        rows = db.session.scalars(select(Category).where(Category.id.in_(frontier))).all()
        known.update({c.id: c for c in rows})
        frontier = {c.parent_id for c in rows if c.parent_id and c.parent_id not in known}
    paths = {}
    for category_id in wanted:
        chain, node = [], known.get(category_id)
        while node is not None:
            chain.append(node.code)
            node = known.get(node.parent_id) if node.parent_id else None
        paths[category_id] = (known[category_id], tuple(reversed(chain)))
    return paths


def searchable_text(product: Product, category: Category) -> str:
    """What free text may find: names, brand, model, maker, category and the spec values, with
    their units (so 16GB and 15.6英寸 match as typed)."""
    units = {a.code: a.unit or "" for a in category.attributes}
    values = []
    for code, value in product.specs.items():
        if isinstance(value, bool):
            continue
        values.append(f"{value}{units.get(code, '')}" if isinstance(value, int | float) else str(value))
    return " ".join(
        [product.name, product.brand, product.model, product.manufacturer, category.name, *values]
    )


def product_documents(product_ids: Sequence[int]) -> list[ProductDoc]:
    """The current state of these products, as the search library wants them. A product without
    listed offers, or switched off, is inactive: the index keeps it only as a soft delete."""
    products = db.session.scalars(
        select(Product)
        .where(Product.id.in_(product_ids))
        .options(selectinload(Product.offers).selectinload(Offer.supplier))
    ).all()
    paths = _category_paths({p.category_id for p in products})
    # Supplier credit (app/oversight/credit.py): the "rating" sort orders by the best score among
    # a product's listed offers' suppliers. Imported here: oversight builds on the catalog.
    from app.oversight.credit import scores as credit_scores

    credit = credit_scores(
        o.supplier_id for p in products for o in p.offers if o.status == OfferStatus.LISTED
    )
    docs = []
    for product in products:
        category, path = paths[product.category_id]
        listed = [o for o in product.offers if o.status == OfferStatus.LISTED]
        offers = tuple(
            OfferDoc(
                offer_id=o.id,
                supplier_id=o.supplier_id,
                price=o.price,
                regions=tuple(o.regions or ()),
                stock=o.stock,
                supplier_sme=o.supplier.is_sme,
                supplier_rating=float(credit[o.supplier_id]),
            )
            for o in sorted(listed, key=lambda o: o.id)
        )
        listed_at = max((o.listed_at or o.created_at for o in listed), default=product.created_at)
        docs.append(
            ProductDoc(
                product_id=product.id,
                version=product.row_version,
                active=product.is_active and bool(offers),
                category_code=category.code,
                category_path=path,
                brand=product.brand,
                model=product.model,
                name=product.name,
                text=searchable_text(product, category),
                specs=product.specs,
                energy_saving=product.energy_saving,
                environmental=product.environmental,
                origin=str(product.origin),
                rating=float(max((credit[o.supplier_id] for o in listed), default=0)),
                listed_at=listed_at,
                offers=offers,
            )
        )
    return docs


def all_documents() -> Iterator[ProductDoc]:
    last = 0
    while True:
        ids = db.session.scalars(
            select(Product.id).where(Product.id > last).order_by(Product.id).limit(BATCH)
        ).all()
        if not ids:
            return
        yield from product_documents(ids)
        last = ids[-1]
        db.session.expunge_all()  # constant memory over the whole catalogue


# -- capture on flush ------------------------------------------------------------------------------


def _touched_products(session: Session) -> set[int]:
    """Products whose search document changes with this flush: edited products, and the products
    of added, edited or removed offers and of suppliers whose SME status changed."""
    touched: set[int] = set()
    dirty = list(session.dirty)  # the property builds a new collection on every access
    dirty_ids = {id(obj) for obj in dirty}
    for obj in (*session.new, *dirty, *session.deleted):
        is_dirty = id(obj) in dirty_ids
        if isinstance(obj, Offer):
            if is_dirty and not session.is_modified(obj):
                continue
            product_id = obj.product_id if obj.product_id is not None else getattr(obj.product, "id", None)
            if product_id is not None:
                touched.add(product_id)
        elif isinstance(obj, Product) and is_dirty and session.is_modified(obj):
            touched.add(obj.id)
        elif (
            isinstance(obj, Organization) and is_dirty and attributes.get_history(obj, "is_sme").has_changes()
        ):
            with session.no_autoflush:
                touched.update(session.scalars(select(Offer.product_id).where(Offer.supplier_id == obj.id)))
    return touched


def touch_products(session: Session, product_ids: Iterable[int]) -> None:
    """Have these products reindexed with this flush, though none of their rows changed (their
    document depends on other data, e.g. their suppliers' credit). Call it from a before_flush."""
    if product_ids:
        session.info.setdefault(_TOUCHED, set()).update(product_ids)


@event.listens_for(Session, "before_flush")
def _capture(session: Session, _context, _instances) -> None:
    touched = _touched_products(session)
    if touched:
        session.info.setdefault(_TOUCHED, set()).update(touched)


@event.listens_for(Session, "after_flush")
def _mark_dirty(session: Session, _context) -> None:
    """Bump versions and set the dirty flag in this transaction; send one job at commit."""
    pending: set[int] = session.info.setdefault(_PENDING, set())
    new_products = {obj.id for obj in session.new if isinstance(obj, Product)}
    touched = session.info.pop(_TOUCHED, set()) - new_products
    if touched:
        session.connection().execute(
            update(Product)
            .where(Product.id.in_(touched))
            .values(row_version=Product.row_version + 1, search_dirty=True)
        )
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Product) and obj.id in touched:
                attributes.set_committed_value(obj, "row_version", obj.row_version + 1)
                attributes.set_committed_value(obj, "search_dirty", True)
    if (touched or new_products) and not pending:
        enqueue_lazy(JOB, lambda: (sorted(pending),), session=session)
    pending.update(touched | new_products)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_TOUCHED, None)
    session.info.pop(_PENDING, None)


# -- jobs ------------------------------------------------------------------------------------------


@job
def reindex_products(product_ids: Sequence[int]) -> int:
    """Index the current state of these products; clear their dirty flag if unchanged since."""
    ids = sorted(set(product_ids))
    written = 0
    for start in range(0, len(ids), BATCH):
        docs = product_documents(ids[start : start + BATCH])
        written += search_backend().index(docs)
        for doc in docs:
            db.session.execute(
                update(Product)
                .where(Product.id == doc.product_id, Product.row_version == doc.version)
                .values(search_dirty=False)
                .execution_options(synchronize_session=False)
            )
    return written


@job
def sweep_dirty(limit: int = 5000) -> int:
    """The healer: index whatever is still dirty (a job was lost, a worker died, a bulk load)."""
    ids = db.session.scalars(select(Product.id).where(Product.search_dirty.is_(True)).limit(limit)).all()
    if ids:
        reindex_products.__wrapped__(ids)
    return len(ids)


def rebuild() -> int:
    """A complete new index from the database, swapped in atomically; everything is clean after."""
    started = utcnow()
    count = search_backend().rebuild(all_documents())
    db.session.execute(
        update(Product)
        .where(Product.updated_at <= started)
        .values(search_dirty=False)
        .execution_options(synchronize_session=False)
    )
    return count


def dirty_count() -> int:
    return (
        db.session.scalar(select(func.count()).select_from(Product).where(Product.search_dirty.is_(True)))
        or 0
    )
