"""One long-lived process that runs AWS CLI commands one after another, each as the `aws` executable would.

A fresh `aws` process costs about a second of CPU before it sends anything: importing awscli and parsing the
JSON models of the endpoints and of the service. `AwsCli` starts this module once as a subprocess; for each
`run(args)` it builds a new driver with `awscli.clidriver.create_clidriver()` and calls its `main(args)`,
which is all the `aws` script does, and hands back the exit code and what the command wrote to stdout and
stderr. After the first command of a service, a command takes about 50 ms.

What differs from a fresh `aws` process, none of it changing what a command sends or prints:
- All drivers share the first driver's botocore data loader, so each JSON model file is parsed once per worker
  rather than once per command (the loader caches what it read; the files do not change).
- Logger handlers and levels are put back after each command: the CLI adds a handler to the `awscli` logger on
  every run, bound to that run's stderr, and would otherwise also write a later command's errors there.
- Each command runs under `warnings.catch_warnings()`, so a warning shown once per process is shown once per
  command, as it would be by separate processes.

Why a process of its own rather than the test process: importing `awscli` puts AWS_DATA_PATH into os.environ
and an import hook at the front of sys.meta_path that makes a later `import botocore` or `import s3transfer`
load the AWS CLI's own copies (its botocore is not boto3's). In the test process, either the CLI would run on
boto3's botocore, which is not the CLI users run, or every test after it would run on the CLI's botocore.

The protocol: one JSON list of arguments per line on the worker's stdin; one JSON object per line
(`returncode`, `stdout`, `stderr`) on the file descriptor that was its stdout. The worker exits when its stdin
closes, so it does not outlive the test process.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import selectors
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CliResult:
    """What a command left behind, the fields of `subprocess.CompletedProcess` the tests read."""

    returncode: int
    stdout: str
    stderr: str


class AwsCli:
    """The worker process, started with `env` as its whole environment; `run` one command at a time."""

    def __init__(self, env: dict[str, str]) -> None:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
        self.process = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # A file, not a pipe: nobody reads the worker's stderr while it runs, and a pipe could fill up.
            stderr=self._log,
            env=env,
            text=True,
            encoding="utf-8",
        )

    def run(self, args: list[str], timeout: float = 120.0) -> CliResult:
        """`aws *args` in the worker; raises if the worker does not answer within `timeout` seconds (the first
        command also waits for the worker to import awscli, about half a second)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(args) + "\n")
        self.process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=timeout)
        if not ready:
            self.process.kill()
            raise TimeoutError(f"the AWS CLI worker did not answer `aws {' '.join(args)}`:\n{self.log()}")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the AWS CLI worker exited during `aws {' '.join(args)}`:\n{self.log()}")
        return CliResult(**json.loads(line))

    def log(self) -> str:
        """The end of what the worker wrote to its stderr: the worker's own tracebacks, not a command's."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


def _logger_state() -> dict[logging.Logger, tuple[int, list[logging.Handler]]]:
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    return {logger: (logger.level, list(logger.handlers)) for logger in loggers}


def _restore_loggers(before: dict[logging.Logger, tuple[int, list[logging.Handler]]]) -> None:
    for logger in _logger_state():
        level, handlers = before.get(logger, (logging.NOTSET, []))
        logger.setLevel(level)
        logger.handlers[:] = handlers


def _pipe() -> io.TextIOWrapper:
    """Stands in for the pipe a process writes to: text becomes UTF-8 bytes, and `.buffer` takes bytes."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _read(pipe: io.TextIOWrapper) -> str:
    """What the pipe holds, decoded as `subprocess.run(..., text=True)` decodes a process's output: with
    universal newlines, so the carriage return the CLI writes in its usage message arrives as a newline."""
    data = pipe.buffer.getvalue().decode("utf-8", errors="replace")  # type: ignore[attr-defined]
    return data.replace("\r\n", "\n").replace("\r", "\n")


def serve() -> None:
    """The worker's loop: read a command's arguments, run it, write its result; stop when stdin closes."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    # Whatever writes to file descriptor 1 itself, rather than to sys.stdout, lands in the worker's log and
    # cannot break a reply.
    os.dup2(2, 1)

    import awscli.clidriver  # here, in the worker only: the test process imports this module too

    loader: Any = None
    for line in sys.stdin:
        args = json.loads(line)
        # argparse names the program after sys.argv[0] in usage and error messages: "aws", as in a process.
        sys.argv = [str(Path(sys.executable).parent / "aws"), *args]
        stdout, stderr = _pipe(), _pipe()
        loggers = _logger_state()
        try:
            with (
                contextlib.redirect_stdout(stdout),
                contextlib.redirect_stderr(stderr),
                warnings.catch_warnings(),
            ):
                driver = awscli.clidriver.create_clidriver()
                if loader is None:
                    loader = driver.session.get_component("data_loader")
                else:
                    driver.session.register_component("data_loader", loader)
                try:
                    returncode = driver.main(args)
                except SystemExit as exit_:  # argparse's errors, as `sys.exit(main())` would end the process
                    if exit_.code is None or isinstance(exit_.code, int):
                        returncode = exit_.code or 0
                    else:
                        print(exit_.code, file=sys.stderr)
                        returncode = 1
                awscli.clidriver.HISTORY_RECORDER.record("CLI_RC", returncode, "CLI")  # as clidriver.main()
        finally:
            _restore_loggers(loggers)
        result = {"returncode": returncode, "stdout": _read(stdout), "stderr": _read(stderr)}
        replies.write(json.dumps(result) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
    # Every reply is flushed; ending here skips the interpreter's freeing of the parsed models, about 0.4 s.
    os._exit(0)
