"""Client insight and group insight panels."""
