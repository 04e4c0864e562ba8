"""Provenance (issue 18): where each file came from and what was made of it.

  lineage.py  file_provenance: a file's job, submission, stage, campaign and the job type,
              login setup and parameters as launched; its inputs back to the first stage and
              every file made from it, generation by generation, bounded; an FCL file's
              UconDB folder, version and location
  flow.py     campaign_flow: per stage, files in, files out, files still to process

Plain functions over the database (no Flask): the file page, the data flow page, the API
and `poms file` all call them.
"""
