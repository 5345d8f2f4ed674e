"""The 2022 item catalogue, the attribute registry, canonical products and suppliers' offers."""
