"""The audit trail: append-only, hash-chained events, their verification and export."""
