"""The language users write: the scenario schema, the TOML loader, and its errors."""
