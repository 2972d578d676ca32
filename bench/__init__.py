"""RepReady's load bench: ``make bench`` (see bench/README.md)."""
