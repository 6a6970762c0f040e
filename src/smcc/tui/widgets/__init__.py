"""The console's panes, one per file: each shows one thing and reloads only what it shows."""
