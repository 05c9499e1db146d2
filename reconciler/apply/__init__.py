"""Applying a plan: the writer, the registry lock and its tickets, the journal, audit records and history."""
