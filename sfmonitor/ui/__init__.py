"""The desktop window (PySide6 on a qasync loop). Reads from the store, never the wire."""
