"""sfmonitor: a desktop monitor for Salesforce event streams.

Importing this package loads no Qt module; only ``sfmonitor.ui`` and ``sfmonitor.app`` do.
"""

__version__ = "0.1.0"
