"""The console: a live multi-pane Textual app over the store (the only package that imports
Textual). `smcc.tui.launch` is what the CLI calls."""
