"""Completion, stage chaining and recoveries (issue 5): plain Python, no Flask.

  delivery.py    finished jobs' reports into the catalogue (deliveries, consumption,
                 outputs with their inputs as parents); what the jobs were given is
                 started at launch (app/launching/inputs.prepare_inputs)
  completion.py  Completed -> Located: at once for `complete` stages; for `located` ones
                 when located outputs cover completion_pct of the consumed input, after
                 the grace period (POMS_LOCATED_GRACE_S), or when an operator forces it
  chain.py       at Located: the next recovery on exactly the unprocessed files, else
                 each dependent stage on the family's outputs matching its file patterns;
                 each decision once (a unique chain_step row), whoever sees it first
  ledger.py      a stage's input = processed + in flight + failed + skipped
  operator.py    recovery preview (files and why), recover now, reprocess (audited)
  hooks.py       after_tracking(config): what a chaining job (the `chaining` worker,
                 queued by tracking) runs

Nothing here imports Flask; the CLI (cli.py) and pages (app/blueprints/chaining.py) are
thin callers.
"""
