"""Identity: users and roles, argon2id passwords, TOTP MFA with recovery codes, lockout, scoped API keys.

The modules are imported one by one (``service``, ``api_keys``, ...); this package imports nothing itself so
``shopsight.config`` can load :mod:`.settings` without pulling in argon2, pyotp or the tables.
"""
