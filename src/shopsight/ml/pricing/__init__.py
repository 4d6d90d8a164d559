"""Dynamic pricing: elasticities from price history, margin-maximizing prices under guardrails,
markdowns for overstock and flash-sale candidates from demand spikes."""
