"""Integrations of pyrometer with frameworks and servers."""
