"""A failing job is named by its root cause, not by the error it printed last: real-looking
logs where one failure causes another, analysed with the starting set (and with an
experiment's own signature put first in its table)."""
from __future__ import annotations

import io

import pytest

from app.logs.analysis import analyze_log
from app.logs.precedence import ROOT_CAUSE_ORDER, by_root_cause, rank
from app.logs.signatures import CATEGORIES, Signature
from app.logs.starting_set import starting_signatures
from tests.logs.logfiles import (
    OUT_DIR,
    OUTPUT,
    art_end,
    art_events,
    art_exception,
    art_start,
    copy_out,
    wrapper_end,
    wrapper_start,
)

SIGNATURES = starting_signatures()
GRIDFTP = "gsiftp://fndcadoor.fnal.gov:2811"

EXPIRED_PROXY_COPY = (
    wrapper_start() + art_start() + art_events(1, 30) + art_end(0) + copy_out()
    + f"Tue Mar  5 11:02:05 2024 program: gfal-copy -f --copy-mode=pull {OUTPUT} "
    f"{GRIDFTP}{OUT_DIR}/{OUTPUT}\n"
    + "gfal-copy error: 70 (Communication error on send) - globus_ftp_client: the server "
    "responded with an error 530 530-globus_xio: Authentication Error 530-globus_gsi_callback"
    "_module: Error with credential: The proxy credential: /tmp/x509up_u50765 with subject: "
    "/DC=org/DC=cilogon/C=US/O=Fermi National Accelerator Laboratory/OU=Robots/CN=mu2epro "
    "expired 12 minutes ago. 530 End.\n"
    + "ifdh cp failed at: Tue Mar  5 11:02:09 2024\n"
    + "Failed to copy output " + OUTPUT + "\n" + wrapper_end(70)
)

EXPIRED_TOKEN_SAM = (
    wrapper_start()
    + "ifdh getNextFile https://samweb.fnal.gov:8483/sam/mu2e/api/projects/mu2e/"
    "mu2epro_reco_66042417/1234567 failed: HTTP 401: the bearer token is expired\n"
    + "SAMWebHTTPError: 401 Unauthorized\n" + wrapper_end(1)
)

CRASH_THEN_NO_OUTPUT = (
    wrapper_start() + art_start() + art_events(1, 12)
    + "\n *** Break *** segmentation violation\n\n"
    + "===========================================================\n"
    + copy_out()
    + f"gfal-copy error: 2 (No such file or directory) - Could not stat the source {OUTPUT}\n"
    + "ifdh cp failed at: Tue Mar  5 10:40:10 2024\n" + wrapper_end(139)
)

BROKEN_CVMFS = (
    wrapper_start()
    + "/cvmfs/mu2e.opensciencegrid.org/Offline/v10_28_00/SLF7/prof/Offline/setup.sh: "
    "Input/output error\n"
    + art_exception("Configuration", "fhicl::exception: can't find file "
                    "'/cvmfs/mu2e.opensciencegrid.org/Offline/v10_28_00/fcl/mcs.fcl'", 90)
    + "\n *** Break *** segmentation violation\n" + wrapper_end(90)
)

OUT_OF_MEMORY_KILLED = (
    wrapper_start() + art_start() + art_events(1, 20)
    + "%MSG-s MemoryTracker: PostEndJob 05-Mar-2024 10:40:01 CST\n"
    + "memory usage exceeded request_memory; the job will be killed\n"
    + "/srv/poms_launch.sh: line 88: 24817 Killed                  mu2e -c mcs.fcl\n"
    + "\tCommand terminated by signal 9\n" + wrapper_end(137)
)

WALLTIME_KILLED = (
    wrapper_start() + art_events(1, 30)
    + "012 (66042417.012.000) 2024-03-05 18:00:01 Job was held.\n"
    + "\tThe job exceeded allowed execute duration of 8:00:00\n"
    + "/srv/poms_launch.sh: line 88: 24817 Killed                  mu2e -c mcs.fcl\n"
    + wrapper_end(137)
)

UNREADABLE_INPUT = (
    wrapper_start() + art_start()
    + art_exception("FileOpenError", "RootInputFileSequence::initFile(): Input file "
                    "root://fndca1.fnal.gov/pnfs/mu2e/dig.art was not found or could not "
                    "be opened.", 65)
    + wrapper_end(65)
)


def named(text: str, signatures=SIGNATURES):
    result = analyze_log(io.BytesIO(text.encode()), signatures=signatures)
    assert result.failed
    return result.signature


@pytest.mark.parametrize("text,key,category,line_has", [
    (EXPIRED_PROXY_COPY, "expired-proxy", "authentication", "expired 12 minutes ago"),
    (EXPIRED_TOKEN_SAM, "expired-proxy", "authentication", "token is expired"),
    (CRASH_THEN_NO_OUTPUT, "segmentation-fault", "software", "segmentation violation"),
    (BROKEN_CVMFS, "cvmfs", "site", "Input/output error"),
    (OUT_OF_MEMORY_KILLED, "out-of-memory", "memory", "exceeded request_memory"),
    (WALLTIME_KILLED, "walltime-exceeded", "timeout", "allowed execute duration"),
    (UNREADABLE_INPUT, "art-input-unreadable", "stage-in", "FileOpenError BEGIN"),
])
def test_the_cause_names_the_job_not_its_consequence(text, key, category, line_has):
    hit = named(text)
    assert (hit.key, hit.category) == (key, category)
    assert line_has in hit.text
    assert text.splitlines()[hit.line - 1] == hit.text


def test_an_experiments_own_stage_out_signature_first_in_its_table_does_not_win():
    own = Signature.build("mu2e copy-out", r"ifdh cp failed|gfal-copy error", "stage-out")
    hit = named(EXPIRED_PROXY_COPY, [own, *SIGNATURES])
    assert hit.category == "authentication"
    # Without an earlier cause, the experiment's signature does name the failed copy.
    denied = (wrapper_start() + art_end(0) + copy_out()
             + "gfal-copy error: 13 (Permission denied) - DESTINATION MAKE_PARENT "
             "Could not create directory\n"
             + "ifdh cp failed at: Tue Mar  5 11:03:10 2024\n" + wrapper_end(13))
    assert named(denied, [own, *SIGNATURES]).name == "mu2e copy-out"


def test_within_one_category_the_table_order_still_decides():
    generic = next(s for s in SIGNATURES if s.key == "art-exception")
    specific = next(s for s in SIGNATURES if s.key == "art-configuration")
    text = BROKEN_CVMFS.replace("Input/output error", "ok")  # no site failure left
    assert named(text, [specific, generic]).key == "art-configuration"
    assert named(text, [generic, specific]).key == "art-exception"


def test_every_category_has_a_rank_and_causes_come_before_consequences():
    assert sorted(ROOT_CAUSE_ORDER) == sorted(CATEGORIES)
    assert rank("authentication") < rank("stage-out") and rank("authentication") < rank(
        "stage-in")
    assert rank("memory") < rank("site") and rank("timeout") < rank("site")
    assert rank("site") < rank("software") < rank("stage-out")
    assert rank("stage-in") < rank("software")
    ordered = by_root_cause(SIGNATURES)
    assert [rank(s.category) for s in ordered] == sorted(rank(s.category) for s in SIGNATURES)
    assert ordered[0].key == "expired-proxy"
