"""The starting set of failure signatures every experiment gets on first use (store.py
installs it once; a starting signature someone deleted stays deleted).

The lines these match were taken from art, ifdh, jobsub, HTCondor and GNU time output;
the tests hold a real-looking log for each (tests/logs/logfiles.py FAILURES).
"""
from __future__ import annotations

from app.logs.signatures import Signature, parse_exit_codes

# (key, name, pattern, category, exit codes, suggested action), in table order (which
# decides within a category: precedence.py). The
# lines these match were taken from art, ifdh, jobsub, HTCondor and GNU time output.
STARTING_SET = [
    ("out-of-memory", "Out of memory",
     r"std::bad_alloc|---- BadAlloc BEGIN|gone over (?:cgroup )?memory limit"
     r"|memory usage exceeded request_memory|Out of memory: Kill(?:ed)? process"
     r"|oom-kill|MemoryError|Cannot allocate memory",
     "memory", "137",
     "Recover with more memory (the job type's memory factor); compare the peak "
     "resident memory with request_memory first."),
    ("walltime-exceeded", "Wall time exceeded",
     r"exceeded allowed execute duration|exceeded (?:the )?(?:maximum |allowed )*"
     r"wall ?(?:clock )?time|wall ?(?:clock )?time (?:limit )?exceeded"
     r"|Job failed to complete in \d+ hrs",
     "timeout", "124",
     "Ask for a longer expected lifetime, or split the input into fewer files per job."),
    ("expired-proxy", "Expired proxy or token",
     r"(?i)proxy (?:has )?expired|expired proxy|credentials? (?:has |have )?expired"
     r"|certificate has expired|token (?:has )?expired|could not verify credential"
     r"|no valid proxy|timeleft\s*:\s*0:00:00"
     r"|expired \d+ (?:second|minute|hour|day)s? ago|CERT_HAS_EXPIRED"
     r"|certificate expired|token is expired",
     "authentication", "",
     "Renew the experiment's proxy or token on the login setup, then recover the "
     "submission."),
    ("art-input-unreadable", "Input file could not be read",
     r"---- FileOpenError BEGIN|---- FileReadError BEGIN"
     r"|No servers are available to read the file|Transfer input files failure"
     r"|Unable to open input file",
     "stage-in", "",
     "Check the input file's locations (dCache or the site's storage); recover the "
     "unprocessed files."),
    ("sam-consumer", "SAM consumer error",
     r"---- CatalogServiceError BEGIN|(?:establishProcess|getNextFile|updateFileStatus)"
     r"\b.*(?i:fail|error|exception)|SAMWeb\w*Error|samweb_client\.exceptions\.\w+",
     "stage-in", "",
     "Check the SAM project and station; recover the files the project did not deliver."),
    ("ifdh-copy", "ifdh copy failed",
     r"ifdh cp failed|gfal-copy error|globus_ftp_client: the server responded with an error"
     r"|Transfer output files failure|Failed to copy output",
     "stage-out", "",
     "Check the output area (permissions, quota) and the site's connection to it; "
     "recover the submission."),
    ("art-product-not-found", "art ProductNotFound",
     r"---- ProductNotFound BEGIN",
     "software", "",
     "The configuration asks for a data product the input does not have: check the FCL "
     "and the input dataset's tier."),
    ("art-configuration", "art or FHiCL configuration error",
     r"---- Configuration BEGIN|fhicl::exception|---- Parse error BEGIN",
     "software", "",
     "Fix the FCL (the job type or the stage's overrides) and relaunch."),
    ("segmentation-fault", "Segmentation fault",
     r"Segmentation fault|segmentation violation|caught signal 11\b|\bSIGSEGV\b",
     "software", "139",
     "A crash in the experiment's code: open the log at the matched line for the stack "
     "trace and report it to the software group."),
    ("killed-signal-9", "Killed by signal 9",
     r"[Kk]illed by signal 9\b|Abnormal termination \(signal 9\)"
     r"|Command terminated by signal 9\b|\bSIGKILL\b|^Killed$|: line \d+: +\d+ Killed",
     "site", "",
     "Killed from outside (batch system, out-of-memory killer or preemption): look at the "
     "hold reason and the memory used."),
    ("disk-full", "Disk full",
     r"No space left on device|Disk quota exceeded|disk usage exceeded request_disk",
     "site", "",
     "Ask for more scratch disk (request_disk) or clean up intermediate files in the job."),
    ("cvmfs", "CVMFS unavailable",
     r"/cvmfs/\S+: (?:Transport endpoint is not connected|Input/output error)"
     r"|Failed to mount /cvmfs|cvmfs[\w ]*(?:not available|failed to mount)",
     "site", "",
     "The site's CVMFS is broken: recover the submission and tell the site's operators."),
    ("art-exception", "art exception (other)",
     r"^\s*---- \w+ BEGIN",
     "software", "",
     "An art exception without a signature of its own: read the log at the matched line."),
]


def starting_signatures() -> list[Signature]:
    return [
        Signature.build(name, pattern, category, action, parse_exit_codes(codes), key=key)
        for key, name, pattern, category, codes, action in STARTING_SET
    ]
