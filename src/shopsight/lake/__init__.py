"""The raw zone: immutable, partitioned Parquet compacted from the event log, with manifests."""
