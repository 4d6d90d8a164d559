"""Privacy at the edge: per-customer envelope encryption, blind indexes, card tokenization."""
