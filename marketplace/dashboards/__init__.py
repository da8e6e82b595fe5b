"""Start pages by role: the PES panel with what waits for the team, and the counts shown in the main menu."""
