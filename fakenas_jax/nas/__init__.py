"""The search: the supernet and its mixed edges, bilevel updates, estimation indicator, pruning."""
