"""Vestibule: a self-hostable sign-in service, compatible with the AWS CLI and SDKs."""

__version__ = "0.1.0"
