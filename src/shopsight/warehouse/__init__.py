"""The curated warehouse: one set of Ibis transforms from the raw zone to a star schema and KPI marts."""
