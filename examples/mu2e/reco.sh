#!/bin/bash
# Demo job of stage reco: read one FCL file, write one .art file. The FCL file is the
# job's input ($CONDOR_DIR_INPUT, or POMS_INPUT_FILE), fetched by the job wrapper from its
# catalogue location: UconDB's once reco_fcl's uploads stored it there (app/ucondb/jobs.py,
# app/batch/job_files.py). Without one the job fails, as a reconstruction job with no
# configuration would.
set -eu
fcl="${POMS_INPUT_FILE:-}"
if [ -z "$fcl" ]; then
  fcl=$(ls "${CONDOR_DIR_INPUT:-.}"/*.fcl 2>/dev/null | head -1 || true)
fi
if [ -z "$fcl" ] || [ ! -f "$fcl" ]; then
  echo "reco: no FCL file to read (dataset: ${DEMO_DATASET:-none})" >&2
  exit 3
fi
sleep "${DEMO_WORK_SECONDS:-2}"
# Test knob: a job whose PROCESS is listed in DEMO_FAIL_PROCESSES fails, once per FCL file
# (a marker beside the outputs remembers it), so its recovery succeeds.
case ",${DEMO_FAIL_PROCESSES:-}," in
  *",${PROCESS:-x},"*)
    marks="${POMS_OUTPUT_DIR:-.}/demo_failed_once"
    mkdir -p "$marks"
    if [ ! -e "$marks/$(basename "$fcl")" ]; then
      touch "$marks/$(basename "$fcl")"
      echo "reco: failing on purpose for $(basename "$fcl") (DEMO_FAIL_PROCESSES)" >&2
      exit 7
    fi
    ;;
esac
out="$(basename "${fcl%.fcl}").art"
{ echo "ART demo output"; echo "config: $(basename "$fcl")"; sha1sum "$fcl"; } > "$out"
echo "read $fcl, wrote $out"
