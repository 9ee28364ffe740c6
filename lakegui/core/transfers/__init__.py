"""Transfers: jobs and their states, the durable SQLite queue, the s3transfer engine,
planning (what to send where) and a headless runner. No Qt here."""
