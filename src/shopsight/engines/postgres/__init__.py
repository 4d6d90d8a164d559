"""PostgreSQL engine: where ``shopsight publish --to postgresql://...`` pushes warehouse tables for BI."""
