"""Wire adapters named after the protocol they speak (AWS query: STS and IAM)."""
