"""Actions on a client from the sidebar: the next step (下一步), follow-up reminders, editing the profile."""
