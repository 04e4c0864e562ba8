"""Live pages: what changed, told to the pages that show it (issue 15).

  changes.py  notes which submissions, stages and campaigns a commit changed (from the
              session, so tracking, launching and chaining need no calls of their own)
              and publishes their topics on Redis pub/sub once the commit is done
  topics.py   the topics a page may follow, checked against its experiment
  stream.py   one Redis subscription per web process, shared by every open page; each
              page's Server-Sent Events stream, paced and coalesced

A topic names what a page fragment shows: `experiment` (the dashboard, the campaigns list),
`campaign-<id>`, `stage-<id>`, `submission-<id>` (its counters and state) and
`submission-<id>-state` (its history). The fragment fetches itself again when its topic
arrives (`hx-trigger="sse:<topic>"`), so it renders for the person looking, with their role.
"""
