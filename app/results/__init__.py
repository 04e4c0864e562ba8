"""Results (issue 7): what finished jobs say, aggregated for pages and exports. No Flask.

  aggregate.py  per submission / per stage counts by exit code and signature, CPU
                efficiency (histogram), memory requested against used, and the summary
                sentence: GROUP BY queries over job_analysis, never a loop over every job
  jobtable.py   the job table: filter (state, exit code, signature, efficiency bin), sort,
                pages of 100
  files.py      a submission's files: consumed, produced (with locations), not processed
  svg.py        a small SVG writer (escaped text) and the plots: efficiency histogram,
                memory used vs requested, campaign time bars, submissions per day calendar
  export.py     CSV and JSON of the tables
  memory.py     the memory request of a recovery of memory failures (job type factor, cap)
"""
