"""Realistic job logs for the log-analysis tests, written the way the programs print them.

A POMS job's log is the jobsub wrapper's output around the experiment's script: ifdh copies
in, art runs (MessageFacility lines, then its TrigReport/TimeReport/MemReport summary), ifdh
copies out, GNU time -v reports, and the wrapper says how it ended. HTCondor's event log
(`.log`) has its own lines: 001 executing, 005 terminated with the resource table.
"""
from __future__ import annotations

INPUT = "root://fndca1.fnal.gov:1094/pnfs/fnal.gov/usr/mu2e/tape/phy-sim/dig/mu2e/CeEndpoint/MDC2020ae/art/4b/1c/dig.mu2e.CeEndpoint.MDC2020ae.001210_00000012.art"
OUTPUT = "mcs.mu2e.CeEndpoint.MDC2020ae.001210_00000012.art"
SCHEDD = "<131.225.240.152:9615>"
PATTERN = "mcs.owner.CeEndpoint.version.sequencer.art"
OUT_DIR = "/pnfs/mu2e/scratch/users/mu2epro/workflow/CeEndpoint/outstage/66042417"


def wrapper_start(site: str = "FermiGrid") -> str:
    return f"""Tue Mar  5 10:00:01 CST 2024 jobsub_lite wrapper starting on fnpc7013.fnal.gov
JOBSUBJOBID=66042417.12@jobsub05.fnal.gov
GLIDEIN_Site = "{site}"
executing: ./poms_launch.sh -c mcs.fcl --stage reco
ifdh cp {INPUT} ./dig.art
"""


def art_start() -> str:
    return f"""%MSG-i MF_INIT_OK:  Early 05-Mar-2024 10:00:12 CST JobSetup
Messagelogger initialization complete.
%MSG
05-Mar-2024 10:00:15 CST  Initiating request to open input file "{INPUT}"
05-Mar-2024 10:00:16 CST  Opened input file "{INPUT}"
05-Mar-2024 10:00:17 CST  Opened output file with pattern "{PATTERN}"
"""


def art_events(first: int, count: int) -> str:
    lines = []
    for n in range(first, first + count):
        lines.append(f"Begin processing the {n}th record. run: 1210 subRun: 12 event: {n * 7} "
                     "at 05-Mar-2024 10:01:13 CST")
        if n % 10 == 0:
            lines.append("%MSG-w KalSeedFit:  KFFDeM:KalSeedFit@ 05-Mar-2024 10:01:14 CST  "
                         f"run: 1210 subRun: 12 event: {n * 7}")
            lines.append(f"Fit did not converge after {n % 7 + 3} iterations; hits used 14")
            lines.append("%MSG")
    return "\n".join(lines) + "\n"


def art_end(status: int = 0, cpu: float = 3512.25, real: float = 3720.5,
            vmpeak: float = 2480.12, vmhwm: float = 1890.45) -> str:
    return f"""05-Mar-2024 11:02:01 CST  Closed input file "{INPUT}"
05-Mar-2024 11:02:03 CST  Closed output file "{OUTPUT}"

TrigReport ---------- Event  Summary ------------
TrigReport Events total = 500 passed = 500 failed = 0

TimeReport ---------- Time  Summary ---[sec]----
TimeReport CPU = {cpu:.6f} Real = {real:.6f}

MemReport  ---------- Memory  Summary ---[base-10 MB]----
MemReport  VmPeak = {vmpeak} VmHWM = {vmhwm}

Art has completed and will exit with status {status}.
"""


def art_exception(name: str, detail: str, status: int) -> str:
    return f"""%MSG-s ArtException:  PostEndJob 05-Mar-2024 10:30:02 CST ModuleEndJob
cet::exception caught in art
---- {name} BEGIN
  {detail}
---- {name} END
%MSG
Art has completed and will exit with status {status}.
"""


def copy_out() -> str:
    return f"ifdh cp -D {OUTPUT} {OUT_DIR}\n"


def time_report(user: float = 3500.1, system: float = 14.2, elapsed: str = "1:02:10",
                max_rss_kb: int = 1_950_000, exit_status: int = 0) -> str:
    return f"""\tCommand being timed: "./poms_launch.sh -c mcs.fcl --stage reco"
\tUser time (seconds): {user}
\tSystem time (seconds): {system}
\tPercent of CPU this job got: 94%
\tElapsed (wall clock) time (h:mm:ss or m:ss): {elapsed}
\tMaximum resident set size (kbytes): {max_rss_kb}
\tExit status: {exit_status}
"""


def wrapper_end(status: int) -> str:
    return (f"Tue Mar  5 11:02:30 CST 2024 /srv/poms_launch.sh COMPLETED with exit status "
            f"{status}\n")


def clean_log(site: str = "FermiGrid") -> str:
    return (wrapper_start(site) + art_start() + art_events(1, 60) + art_end(0) + copy_out()
            + time_report() + wrapper_end(0))


def failed_art(exception: str, detail: str, status: int = 1) -> str:
    return (wrapper_start() + art_start() + art_events(1, 25) + art_exception(exception, detail,
                                                                               status)
            + wrapper_end(status))


def condor_event_log(exit_line: str, usage: int = 2150, request: int = 2000) -> str:
    return f"""000 (66042417.012.000) 2024-03-05 09:58:40 Job submitted from host: {SCHEDD}
...
001 (66042417.012.000) 2024-03-05 10:00:00 Job executing on host: <131.225.67.84:9618>
...
005 (66042417.012.000) 2024-03-05 11:00:00 Job terminated.
\t{exit_line}
\t\tUsr 0 00:52:10, Sys 0 00:01:20  -  Run Remote Usage
\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Local Usage
\t\tUsr 0 00:52:10, Sys 0 00:01:20  -  Total Remote Usage
\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Total Local Usage
\t0  -  Run Bytes Sent By Job
\t0  -  Run Bytes Received By Job
\tPartitionable Resources :    Usage  Request Allocated
\t   Cpus                 :     0.98        1         1
\t   Disk (KB)            :   250000  1000000   1200000
\t   Memory (MB)          :     {usage}     {request}      2048
...
"""


# key of a starting signature -> (a log it must name, a piece of the line it must point at)
FAILURES = {
    "out-of-memory": (
        wrapper_start() + art_start() + art_events(1, 40)
        + "terminate called after throwing an instance of 'std::bad_alloc'\n"
        + "  what():  std::bad_alloc\n" + wrapper_end(134),
        "std::bad_alloc",
    ),
    "walltime-exceeded": (
        wrapper_start() + art_events(1, 30)
        + "012 (66042417.012.000) 2024-03-05 18:00:01 Job was held.\n"
        + "\tThe job exceeded allowed execute duration of 8:00:00\n"
        + "\tCode 47 Subcode 0\n",
        "exceeded allowed execute duration",
    ),
    "expired-proxy": (
        wrapper_start()
        + "Error: globus_gsi_callback_module: Could not verify credential\n"
        + "globus_gsi_callback_module: The proxy has expired: Credential with subject: "
        + "/DC=org/DC=cilogon/C=US/O=Fermi National Accelerator Laboratory/OU=Robots/"
        + "CN=mu2epro expired 12 minutes ago.\n" + wrapper_end(1),
        "Could not verify credential",
    ),
    "art-input-unreadable": (
        failed_art("FileOpenError",
                   "RootInputFileSequence::initFile(): Input file " + INPUT
                   + " was not found or could not be opened.", 20),
        "---- FileOpenError BEGIN",
    ),
    "sam-consumer": (
        wrapper_start()
        + "ifdh establishProcess https://samweb.fnal.gov:8483/sam/mu2e/api/projects/mu2e/"
        + "mu2epro_CeEndpoint_66042417/1234567 mu2e v09 fnpc7013 mu2epro \"\" 1 \"\": "
        + "failed: HTTP 404 project not found\n" + wrapper_end(1),
        "establishProcess",
    ),
    "ifdh-copy": (
        wrapper_start() + art_start() + art_events(1, 10) + art_end(0) + copy_out()
        + "gfal-copy error: 13 (Permission denied) - DESTINATION MAKE_PARENT "
        + "Could not create directory\n"
        + "ifdh cp failed at: Tue Mar  5 11:03:10 2024\n" + wrapper_end(13),
        "gfal-copy error",
    ),
    "art-product-not-found": (
        failed_art("ProductNotFound",
                   "Failed to find product for\n    type = 'std::vector<mu2e::StrawHit>'\n"
                   "    module = 'makeSH'\n    productInstance = ''", 6),
        "---- ProductNotFound BEGIN",
    ),
    "art-configuration": (
        failed_art("Configuration",
                   "Unsuccessful attempt to convert FHiCL parameter 'maxFullPrint' to type "
                   "'int'.", 9),
        "---- Configuration BEGIN",
    ),
    "segmentation-fault": (
        wrapper_start() + art_start() + art_events(1, 12)
        + "\n *** Break *** segmentation violation\n\n"
        + "===========================================================\n" + wrapper_end(139),
        "segmentation violation",
    ),
    "killed-signal-9": (
        wrapper_start() + art_start() + art_events(1, 20)
        + "/srv/poms_launch.sh: line 88: 24817 Killed                  mu2e -c mcs.fcl\n"
        + "\tCommand terminated by signal 9\n" + wrapper_end(137),
        ": line 88: 24817 Killed",
    ),
    "disk-full": (
        wrapper_start() + art_start() + art_events(1, 8)
        + "Error in <TFile::WriteBuffer>: error writing all requested bytes to file "
        + "mcs.art, wrote 1024 of 4096: No space left on device\n" + wrapper_end(1),
        "No space left on device",
    ),
    "cvmfs": (
        "Tue Mar  5 10:00:01 CST 2024 jobsub_lite wrapper starting on node12.site.edu\n"
        + "/cvmfs/mu2e.opensciencegrid.org/setupmu2e-art.sh: Transport endpoint is not "
        + "connected\n" + wrapper_end(1),
        "Transport endpoint is not connected",
    ),
    "art-exception": (
        failed_art("DataCorruption", "RootInputFile: read error in event 1210:12:4321", 16),
        "---- DataCorruption BEGIN",
    ),
}
