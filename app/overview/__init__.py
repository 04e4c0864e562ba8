"""The operator's view: what every campaign and stage is doing, and what needs a person.

Plain Python over aggregates (the counters on submission rows, one GROUP BY per question),
never per-job lists: the pages poll these every few seconds.

  grid.py       a campaign's stages by their recent submissions, each stage's last and next
                launch, hold, ledger and an estimate of when it finishes
  listing.py    per campaign: state, active submissions, failures, input progress, activity
  attention.py  what needs a person in an experiment, first, each with its action
  bulk.py       hold, release, kill or recover many submissions: the preview and the doing
"""
