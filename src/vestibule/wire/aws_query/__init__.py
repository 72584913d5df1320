"""The AWS query protocol (form parameters in, XML out): STS and IAM."""
