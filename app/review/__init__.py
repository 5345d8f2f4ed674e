"""Listing review (上架审核): the operators' queue of submitted offers and their decisions."""
