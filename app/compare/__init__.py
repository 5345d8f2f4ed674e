"""Side-by-side comparison of 2–4 products and the saved comparison records (比价记录)."""
