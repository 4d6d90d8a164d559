"""Embedded durable event log: segmented, checksummed, group-committed files on local disk."""
