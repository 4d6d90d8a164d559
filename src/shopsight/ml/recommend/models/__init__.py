"""The recommendation models: popularity, neighbours, factorization, content."""
