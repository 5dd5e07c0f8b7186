"""Gates (DESIGN §8): each a command with a JSON verdict, a Markdown summary and an exit code."""
