"""Direct orders: cart, checkout against a plan, and the order's life up to acceptance and evaluation."""
