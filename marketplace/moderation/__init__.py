"""The regional office's tools: the verification queue, moderation actions and the audit log."""
