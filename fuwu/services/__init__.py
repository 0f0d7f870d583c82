"""The shell's rules: accounts and organisations, audit, notifications, idempotency."""
