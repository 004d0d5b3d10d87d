"""fiberdesk: customer operations for fiber-to-the-home operators."""

__version__ = "0.1.0"
