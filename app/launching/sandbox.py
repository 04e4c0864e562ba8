"""The per-launch sandbox: a fresh directory on the launch host, named by $UPLOADS, holding
the launching person's uploaded files and credential; removed when the launch ends.

As the original POMS gives each analysis launch a sandbox of the person's uploads (and
copies the credential to the launch host), but with nothing left behind and nothing
shared: the files travel inside the launch script itself, as a base64 tar archive in a
here-document that the script unpacks into a `mktemp -d` directory before anything else
runs. The same text works wherever the script runs:

  local launcher   a directory the launch account creates and owns (0700)
  ssh launcher     unpacked on the login host, over the same ssh connection (no scp)

    box = Sandbox(files=[("reco.cfg", Path(...)), ("x509up_mu2e_alice", Path(...))],
                  credential=("X509_USER_PROXY", "x509up_mu2e_alice"))
    box.preamble()             the shell text that runs before the launch's own script
    box.preamble(shown=True)   the same with the archive's lines replaced by a note of what
                               it holds (what pages and the dry run show: no credential)

Plain Python; the caller decides which files (the uploaded-files store and the credential
store) and where the launch runs.
"""
from __future__ import annotations

import base64
import io
import re
import shlex
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

END = "POMS_SANDBOX_END"
# A file name in the sandbox: one path component a shell and tar take literally.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=,@%-]{0,254}")
_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")


class SandboxError(ValueError):
    """A file cannot go into the sandbox; says which and why."""


@dataclass
class Sandbox:
    # (name in $UPLOADS, file on this machine), in order; a later name replaces an earlier
    files: list[tuple[str, Path]] = field(default_factory=list)
    # (variable, name): the credential's variable, pointed at its copy in $UPLOADS
    credential: tuple[str, str] | None = None
    # where the launch works (created first), for launches that run on this machine as a
    # launch account; empty: where the launcher starts it (the login account's home)
    workdir: str = ""
    # names also copied into the working directory, where they outlive the launch (the
    # jobs' input list, read by jobs after the launch ended)
    keep: list[str] = field(default_factory=list)

    def entries(self) -> list[tuple[str, Path]]:
        chosen: dict[str, Path] = {}
        for name, path in self.files:
            if not _NAME.fullmatch(name):
                raise SandboxError(f"{name!r} cannot be a file name in the launch sandbox "
                                   "(letters, digits and _ . + = , @ % -, not starting "
                                   "with . or -)")
            chosen[name] = Path(path)
        if self.credential:
            variable, name = self.credential
            if not _VARIABLE.fullmatch(variable) or name not in chosen:
                raise SandboxError(f"the credential {name!r} ({variable}) is not one of the "
                                   "sandbox's files")
        return list(chosen.items())

    def archive(self) -> bytes:
        """The files as a gzip'd tar: owner-only modes, no owners, no links."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
            for name, path in self.entries():
                try:
                    data = Path(path).read_bytes()
                except OSError as err:
                    raise SandboxError(f"{name}: cannot read {path}: {err.strerror}") \
                        from None
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o600, 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    def preamble(self, shown: bool = False) -> str:
        """The shell text that makes the sandbox; `shown`: with the archive left out."""
        entries = self.entries()
        lines = ["# POMS launch sandbox: $UPLOADS is a fresh directory with this launch's "
                 "uploaded files and credential, removed when the launch ends",
                 # group-readable at most: the local batch engine's files are read by POMS
                 "umask 027"]
        if self.workdir:
            where = shlex.quote(self.workdir)
            lines.append(f"mkdir -p -- {where} && cd -- {where} || exit 1")
        lines += [
            'UPLOADS=$(mktemp -d "${TMPDIR:-/tmp}/poms_uploads.XXXXXXXX") || exit 1',
            "export UPLOADS",
            "trap 'rm -rf -- \"$UPLOADS\"' EXIT",
        ]
        if entries:
            names = ", ".join(name for name, _path in entries)
            lines.append(f"base64 -d > \"$UPLOADS/.sandbox.tgz\" <<'{END}'")
            if shown:
                lines.append(f"# ({len(entries)} file{'s' if len(entries) != 1 else ''}, "
                             f"not shown: {names})")
            else:
                text = base64.b64encode(self.archive()).decode("ascii")
                lines += [text[i:i + 76] for i in range(0, len(text), 76)]
            lines += [
                END,
                'tar -xzf "$UPLOADS/.sandbox.tgz" -C "$UPLOADS" && rm -f -- '
                '"$UPLOADS/.sandbox.tgz" || { echo "POMS: the launch sandbox could not be '
                'unpacked" >&2; exit 1; }',
            ]
        for name in self.keep:
            lines.append(f'cp -- "$UPLOADS"/{shlex.quote(name)} . || exit 1')
        if self.credential:
            variable, name = self.credential
            lines.append(f'export {variable}="$UPLOADS"/{shlex.quote(name)}')
        return "\n".join(lines) + "\n"
