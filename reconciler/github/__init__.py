"""The reconciler inside GitHub Actions: the pull-request check, review re-evaluation, apply on merge
and drift issues. Everything here reads GitHub Actions' standard environment (reconciler/github/
context.py) and talks to GitHub through githubkit (reconciler/github/client.py), so the tests point
it at a local fake of GitHub's REST API.
"""
