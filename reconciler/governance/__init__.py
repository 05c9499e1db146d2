"""Governance by pull request, the pure half: review policy, rules, approvals, gates, CODEOWNERS.

No GitHub and no MLflow calls here: inputs are typed values, outputs typed verdicts.
(Interface written out below once it settles.)
"""
