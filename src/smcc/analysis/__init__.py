"""Analysis of mentions: language, sentiment and the signals a command center watches."""
