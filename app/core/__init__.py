"""Cross-cutting pieces every feature package uses: the database base, money, the request
transaction, after-commit jobs, audit and errors."""
