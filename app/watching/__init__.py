"""Watching campaigns and stages, being told, and each stage's circuit breaker (issue 18).

  watches.py   who watches what: events, channel (email, webhook), cadence (immediate,
               hourly, daily)
  events.py    an event recorded once, matched to the watches that want it, and the
               messages it makes (a Delivery each, or a notice waiting for a digest)
  scan.py      the watch pass the scheduler queues on the `notifications` queue: reads what
               happened (state changes, refused recoveries, failed FCL uploads, credentials
               about to expire) into events, makes the digests that are due, and says which
               deliveries to queue
  delivery.py  sending one delivery: mail over SMTP (POMS_SMTP_URL), or a webhook POST of
               {"text": ...} (Mattermost and Slack incoming webhooks take it)
  breaker.py   the per-stage circuit breaker: its policy, judging a stage after tracking,
               tripping (holding the stage and its dependents), releasing

Nothing here waits on a mail server or a webhook inside tracking: events are rows written
where they happen, and delivery is work on its own queue (app/work.py queue_deliveries).
"""
