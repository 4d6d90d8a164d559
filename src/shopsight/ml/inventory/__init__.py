"""Inventory optimization: stock policy from demand and lead time, replenishment plan, simulation."""
