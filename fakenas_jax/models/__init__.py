"""Networks: the search supernet, and (later) detectors built from genotypes."""
