"""The Textual app: screens, widgets and styles. Reads the monitor, never calls AWS itself."""
