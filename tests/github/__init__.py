"""Test infrastructure for code that talks to GitHub: a fake REST API held to GitHub's OpenAPI
description, real event payloads, and a workflow runner that evaluates expressions with GitHub's
own evaluator. See fake.py, events.py and runner.py."""
