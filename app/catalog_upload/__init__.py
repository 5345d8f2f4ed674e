"""Supplier catalog uploads (批量导入): templates, upload batches, the import job and its apply, and
the idempotency keys of the supplier API that shares the apply."""
