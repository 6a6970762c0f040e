"""The console's screens: the main multi-pane screen, single-pane views and small dialogs."""
