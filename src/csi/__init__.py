"""csi: a reproducible customer-satisfaction-index pipeline for social-security service surveys."""

__version__ = "0.1.0"
