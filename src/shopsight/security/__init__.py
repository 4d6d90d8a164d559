"""Security: identity (users, MFA, API keys), authorization and masking, key management, the audit ledger."""
