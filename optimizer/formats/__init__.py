"""File formats: parse_*/read_*/write_* adapters between files and core types."""
