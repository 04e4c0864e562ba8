"""Job log analysis (issue 7): why jobs failed, in plain Python (no Flask).

  analysis.py    analyze_job_log(path_or_stream, exit_code, signatures) -> LogAnalysis: one
                 streaming pass (bounded memory) for exit code, signal, wall/CPU time, peak
                 memory, files in and out, site and the failure signature. Its parts:
                 reading.py (blocks of whole lines), markers.py (what marker lines say),
                 scan.py (the signatures' first matching lines; first_matching_line).
  precedence.py  which signature names a log when several match: the root cause (category
                 rank: authentication, memory, timeout, site, stage-in, software, stage-out),
                 then table order.
  logsearch.py   search_log(stream, text) -> the lines of one log holding a text.
  trial.py       try a pattern on the experiment's stored logs (or files named), bounded.
  relabel.py     plan_relabel / apply_relabel: past failures named as the table names them
                 now (a preview, then one audited change).
  signatures.py  what a signature is, the checks a pattern must pass before it is saved
                 (length, one line, what the linear-time engine RE2 can run, empty match).
  starting_set.py  the signatures every experiment starts with.
  store.py       an experiment's signature table in the database: installed on first use
                 (idempotent), edited, ordered, hit counts (record_hits), and
                 signatures_for(experiment) for the analysis.
  summary.py     summarize(analyses) -> counts by exit code and signature, CPU efficiency,
                 memory requested against used, and the sentence for the submission page.
  recovery.py    raised_memory_request(): the memory a recovery of memory failures asks for.
  cli.py         `poms analyze-log FILE [--exit-code N] [--experiment EXP] [--json]`.
  joblog.py      a finished job's log as one stream (stdout, then stderr), and a window of
                 lines around a line number for the log page.
  jobs.py        the RQ `analysis` job: analyse_jobs(job_row_ids) analyses each finished
                 job's log once into a JobAnalysis row and counts its signature's hit.
"""
