"""The search strategy: bilevel updates, estimation indicator, pruning, genotypes."""
