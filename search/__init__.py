"""Product search: one interface, two backends (tantivy embedded, Elasticsearch in production).

No Flask imports: the app feeds this library rows and queries; it never reaches into the app.
"""
