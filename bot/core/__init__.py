"""The core: domain types, the catalog, merge and diff rules, settings — pure, no I/O."""
