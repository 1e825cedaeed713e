"""Where the processes of a data-parallel run come from, and how their failures come back.

``fit`` with ``strategy="ddp"`` either

- joins a process group that is already there: one a launcher (``torchrun``) set up through
  its environment variables, or one the script made itself (:func:`launched`); every process
  then runs ``fit`` and each learner ends with the trained model; or
- starts ``devices`` worker processes itself (:func:`spawn_fit`, torch's multiprocessing
  with the ``spawn`` start method), each of which runs the same ``fit`` as one rank. Rank 0
  sends its fitted learner back, and the calling process's learner ends as after any ``fit``.

A worker that raises stops them all: the others are terminated and the error reaches the
caller as :class:`~mlrpy.errors.DistributedError` naming the rank, chained to the worker's
own exception. A worker killed by a signal is reported with the signal's name.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mlrpy.errors import DistributedError, ParameterError
from mlrpy.io import atomic_write
from mlrpy.learners.parallel import DataParallel, local_rank
from mlrpy.learners.runtime import resolve_device

__all__ = [
    "check_devices",
    "join_launched_group",
    "launched",
    "rank_device",
    "rank_engine",
    "spawn_fit",
    "spawn_threads",
    "worker_backend",
    "write_job",
]

#: the environment ``torchrun`` (and ``torch.distributed.launch``) give each process
_LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_RESULT = "result.pt"
_JOB = "job.pkl"


def launched() -> bool:
    """Whether this process is one rank of a group set up outside ``fit`` (``torchrun``, or
    ``torch.distributed.init_process_group`` called by the script)."""
    if not dist.is_available():
        return False
    return dist.is_initialized() or all(name in os.environ for name in _LAUNCHER_VARIABLES)


def worker_backend(learner: Any, device: torch.device) -> str:
    """The learner's ``backend``, or the one that suits ``device``; refuses nccl without CUDA."""
    backend = learner.backend or ("nccl" if device.type == "cuda" else "gloo")
    if backend == "nccl" and device.type != "cuda":
        raise ParameterError(
            f"Learner '{learner.id}': backend='nccl' needs CUDA devices, but the learner trains "
            f"on '{device}'; use backend='gloo' (or None) on the CPU"
        )
    return str(backend)


def join_launched_group(learner: Any, device: torch.device) -> None:
    """Set up this process's group from the launcher's environment, unless it exists."""
    if not dist.is_initialized():
        dist.init_process_group(worker_backend(learner, device), init_method="env://")
    local_size = int(os.environ.get("LOCAL_WORLD_SIZE", dist.get_world_size()))
    if learner.devices not in (1, local_size):
        raise ParameterError(
            f"Learner '{learner.id}': devices={learner.devices}, but the launcher started "
            f"{local_size} processes on this machine; under torchrun the launcher decides "
            f"(leave devices=1 or set it to --nproc_per_node)"
        )


def rank_device(learner: Any) -> torch.device:
    """This rank's device: the learner's, and on CUDA the GPU of the local rank (made current)."""
    device = resolve_device(learner.device)
    if device.type == "cuda":  # one GPU per process
        device = torch.device("cuda", local_rank())
        torch.cuda.set_device(device)
    return device


def rank_engine(learner: Any, callbacks: list[Any]) -> DataParallel:
    """The data-parallel engine of this process's rank, joining the launcher's group first
    when ``fit`` did not start this process. ``callbacks``: the run's descriptors, on every
    rank (before the rank-0-only ones are left out)."""
    device = rank_device(learner)
    join_launched_group(learner, device)
    stops_early = any("stop_epoch" in tc.generator.writes for tc in callbacks)
    return DataParallel(device, uneven=stops_early or learner.on_nonfinite == "warn")


def spawn_threads(learner: Any) -> int:
    """Torch threads per spawned worker: the learner's ``num_threads``, else (on the CPU) the
    machine's cores shared out, so that N workers do not each start a thread per core."""
    if learner.num_threads is not None:
        return int(learner.num_threads)
    return max(1, (os.cpu_count() or 1) // int(learner.devices))


def check_devices(learner: Any, device: torch.device) -> None:
    """Refuse more GPU processes than this machine has GPUs."""
    if device.type == "cuda":
        available = torch.cuda.device_count()
        if learner.devices > available:
            raise ParameterError(
                f"Learner '{learner.id}': devices={learner.devices}, but this machine has "
                f"{available} CUDA device(s); use devices <= {available}"
            )


def write_job(learner: Any, fit_args: dict[str, Any], path: Path) -> None:
    """Pickle the learner and ``fit``'s arguments into ``path`` for the workers; refuse,
    naming it, anything a spawned worker could not receive: what cannot be pickled, and
    classes or functions defined in an interactive session's ``__main__``, which a spawned
    process cannot import."""
    named = [(f"parameter '{name}'", value) for name, value in learner.get_params(deep=False).items()]
    named += [(f"the fit argument '{name}'", value) for name, value in fit_args.items()]
    if not hasattr(sys.modules.get("__main__"), "__file__"):
        for what, value in named:
            for obj in _listed(value):
                owner = obj if isinstance(obj, type) or callable(obj) else type(obj)
                if getattr(owner, "__module__", None) == "__main__":
                    raise ParameterError(
                        f"Learner '{learner.id}': strategy='ddp' starts worker processes, which "
                        f"cannot import {_describe(obj)} of {what}: it is defined in this "
                        f"interactive session; define it in a module (a .py file) and import it "
                        f"from there"
                    )
    try:
        with open(path, "wb") as f:
            pickle.dump((learner, fit_args), f, protocol=pickle.HIGHEST_PROTOCOL)
        return
    except Exception as err:
        failure = err
    for what, value in named:  # which object it was
        for obj in _listed(value):
            try:
                pickle.dumps(obj)
            except Exception as err:
                raise ParameterError(
                    f"Learner '{learner.id}': strategy='ddp' sends the learner to worker "
                    f"processes, but {_describe(obj)} of {what} cannot be pickled ({err}); define "
                    f"classes and functions at module level (not inside a function, not as lambdas)"
                ) from err
    raise ParameterError(
        f"Learner '{learner.id}': strategy='ddp' cannot send the learner to worker processes: {failure}"
    ) from failure


def _listed(value: Any) -> list[Any]:
    """The objects a parameter value is made of: the value, or a list's items."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _describe(obj: Any) -> str:
    """A one-line name for ``obj``: a callback's id and class, a class's or function's name."""
    generator = getattr(obj, "generator", None)
    if isinstance(generator, type):  # a TorchCallback
        return f"callback '{obj.id}' ({generator.__qualname__})"
    if isinstance(obj, type) or callable(obj):
        return repr(getattr(obj, "__qualname__", obj))
    return f"a {type(obj).__name__}"


def spawn_fit(learner: Any, fit_args: dict[str, Any]) -> dict[str, Any]:
    """Run ``learner._fit(**fit_args)`` on ``learner.devices`` spawned workers; rank 0's
    fitted attributes (``learner.fitted_attributes``: attribute name to value).

    What the workers could not use is refused here, before any process starts: too many
    GPUs, nccl without CUDA, objects that cannot be sent to a spawned process.
    """
    device = resolve_device(learner.device)
    worker_backend(learner, device)
    check_devices(learner, device)
    threads_per_worker = spawn_threads(learner) if device.type == "cpu" else learner.num_threads
    world_size = int(learner.devices)
    with tempfile.TemporaryDirectory(prefix="mlrpy-ddp-") as folder:
        workdir = Path(folder)
        # The job goes through a file the workers read at once. Given as process arguments it
        # would go through each worker's start-up pipe, which the worker empties only after
        # importing its modules: with data of some size the workers would start one by one.
        write_job(learner, fit_args, workdir / _JOB)
        context = mp.start_processes(
            _worker,
            args=(world_size, str(workdir), threads_per_worker),
            nprocs=world_size,
            join=False,
            start_method="spawn",
        )
        processes = context.processes
        failed: list[int] = []
        try:
            waiting = {process.sentinel: rank for rank, process in enumerate(processes)}
            while waiting and not failed:
                for sentinel in multiprocessing.connection.wait(list(waiting)):
                    rank = waiting.pop(sentinel)  # type: ignore[call-overload]
                    processes[rank].join()
                    if processes[rank].exitcode != 0:
                        failed.append(rank)
        finally:
            # on any way out (a failure, an interrupt): no worker outlives the call
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
                    process.join()
        if failed:
            failure, original = _failure(failed, processes, context.error_files, workdir, world_size)
            raise failure from original
        fitted: dict[str, Any] = torch.load(workdir / _RESULT, weights_only=False)
    return fitted


def _worker(rank: int, world_size: int, workdir: str, threads: int | None) -> None:
    """One rank of a spawned run (the target of ``torch.multiprocessing``)."""
    os.environ["LOCAL_RANK"] = str(rank)
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        with open(Path(workdir, _JOB), "rb") as f:
            learner, fit_args = pickle.load(f)
        dist.init_process_group(
            worker_backend(learner, rank_device(learner)),
            init_method=Path(workdir, "store").as_uri(),
            rank=rank,
            world_size=world_size,
        )
        try:
            learner._fit(**fit_args)
        finally:
            dist.destroy_process_group()
        if rank == 0:
            names = learner.fitted_attributes
            fitted = {name: value for name, value in vars(learner).items() if name in names}
            atomic_write(Path(workdir, _RESULT), lambda f: torch.save(fitted, f))
    except BaseException as err:
        _report(Path(workdir), rank, err)
        raise
    # Done, and everything is written: leave without the interpreter's teardown, which takes
    # seconds in a process that imported torch.distributed (the callbacks' on_exit has run).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _report(workdir: Path, rank: int, err: BaseException) -> None:
    """Leave the worker's exception where the parent finds it: its message, and the exception
    with its chain of causes, pickled where they can be (pickling drops ``__cause__``)."""
    chain: list[bytes] = []
    cause: BaseException | None = err
    while cause is not None and len(chain) < 8:
        try:
            chain.append(pickle.dumps(cause))
        except Exception:
            break
        cause = cause.__cause__
    text = str(err)
    # a rank whose peer failed or was killed fails too, in a collective; it is not the cause
    lost_peer = isinstance(err, dist.DistError) or any(
        sign in text.lower() for sign in ("connection closed", "connection reset", "gloo")
    )
    report = {"type": type(err).__name__, "message": text, "chain": chain, "lost_peer": lost_peer}
    with contextlib.suppress(OSError):  # the parent then reports torch's traceback of it
        atomic_write(workdir / f"error-{rank}.pkl", lambda f: pickle.dump(report, f))


def _unpickled_chain(chain: list[bytes]) -> BaseException | None:
    """The worker's exception with its causes linked again (``None`` if it cannot be read)."""
    errors: list[BaseException] = []
    for payload in chain:
        try:
            error = pickle.loads(payload)
        except Exception:
            break
        if not isinstance(error, BaseException):
            break
        errors.append(error)
    for error, cause in itertools.pairwise(errors):
        error.__cause__ = cause
    return errors[0] if errors else None


def _read_report(workdir: Path, rank: int) -> dict[str, Any] | None:
    try:
        with open(workdir / f"error-{rank}.pkl", "rb") as f:
            report: dict[str, Any] = pickle.load(f)
    except Exception:  # none, or one being written as the worker was killed
        return None
    return report


def _failure(
    failed: list[int], processes: list[Any], error_files: list[str], workdir: Path, world_size: int
) -> tuple[DistributedError, BaseException | None]:
    """The error for the caller, naming the rank that failed first, and the worker's own
    exception (or torch's traceback of it) to chain it to.

    ``failed`` holds the ranks found dead together; among them a rank that raised on its own
    comes first, then one killed by a signal, then one that only lost a peer.
    """
    reports = {rank: _read_report(workdir, rank) for rank in failed}

    def priority(rank: int) -> int:
        report = reports[rank]
        if report is not None and not report["lost_peer"]:
            return 0
        return 1 if processes[rank].exitcode < 0 else 2

    rank = min(failed, key=priority)
    report = reports[rank]
    where = f"Rank {rank} of a {world_size}-process run (strategy='ddp')"
    exit_code = processes[rank].exitcode
    if report is None and exit_code < 0:
        name = signal.Signals(-exit_code).name
        return DistributedError(f"{where} was killed by signal {name}", rank=rank), None
    original = _unpickled_chain(report["chain"]) if report is not None else None
    if original is None and os.path.exists(error_files[rank]):
        with open(error_files[rank], "rb") as f:
            original = RuntimeError(pickle.load(f))  # torch's traceback of the worker's error
    if report is None:  # it failed before it could run: while starting up
        return DistributedError(
            f"{where} exited with status {exit_code} while starting. A worker imports the "
            f"script that called fit; if the script trains at its top level, keep that under "
            f"`if __name__ == \"__main__\":`",
            rank=rank,
        ), original
    message = f"{where} failed: {report['type']}: {report['message']}"
    return DistributedError(message, rank=rank), original
