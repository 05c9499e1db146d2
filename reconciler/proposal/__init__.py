"""Training proposes its own promotion: the `propose:` rule, the model-file edit, the evidence and PR body.

Pure: no MLflow and no GitHub here. reconciler/proposal/registry.py reads what these take from the
registry; reconciler/github/proposals.py opens the pull request; reconciler/commands/propose.py
joins them.

rule      ProposeRule (a model file's `propose:`), rule_schema(), read_rule(), check_not_protected()
edit      propose_text(text, source, version, rule, run) -> the edited file's text (round trip, validated)
evidence  RunInfo, Evidence, comparison rows, gates the review policy applies to a promotion, today
body      pull_request_body(evidence) -> Markdown, with a marker the next run checks for hand edits
"""
