"""IAM use cases, one module per area. Each takes an `ApiCall` (who, the action that authorizes it, the audit
event it records) and typed inputs, and returns rows or domain values; the wire shapes them."""
