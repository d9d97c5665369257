"""Isolation against real child processes: timeouts, memory caps, crashes, recycling and clean-up.

Every fault comes from a real plugin under ``tests/plugins`` running in a real
child; nothing is mocked. Each call runs in a thread joined with a hard bound,
so a broken executor fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from extractkit.errors import PluginError
from extractkit.models import ExtractOptions, Outcome
from extractkit.plugins import PluginSpec
from extractkit.processing import local_document
from runner.isolation import InProcessExecutor, IsolatedExecutor, IsolationLimits
from runner.isolation.protocol import load_child_message

from hostile.generate import HostileCase, generate, many_pages_pdf
from support.paths import TEST_PLUGINS

FAULT_PLUGINS = tuple(
    str(TEST_PLUGINS / name) for name in ("fault_hang.py", "fault_memory.py", "fault_crash.py", "child_probe.py")
)
#: Slack on top of a limit before a call counts as hung: child start-up, kill and reap.
SLACK_SECONDS = 20


def make_executor(tmp_path: Path, limits: IsolationLimits, workers: int = 1) -> IsolatedExecutor:
    """An executor with the builtins plus the fault plugins, recording grandchild pids under tmp_path."""
    options = ExtractOptions(extra={"fault_pid_dir": str(tmp_path / "pids")})
    spec = PluginSpec(entry_points=False, extra=FAULT_PLUGINS)
    return IsolatedExecutor(spec, options, limits, workers, temp_dir=tmp_path / "work")


def write(directory: Path, name: str, text: str = "some text for the extractor\n") -> Path:
    """Create a small text file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def extract_bounded(executor: IsolatedExecutor, path: Path, bound: float) -> Outcome:
    """Run one extraction in a thread; fail if it has not returned within ``bound`` seconds."""
    box: list[Outcome | BaseException] = []

    def run() -> None:
        try:
            box.append(executor(local_document(path)))
        except BaseException as error:
            box.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(bound)
    assert not thread.is_alive(), f"extraction of {path.name} did not return within {bound} s"
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def probe(executor: IsolatedExecutor, directory: Path, name: str = "probe.txt") -> dict:
    """Ask the probe extractor about the child that handles the next document."""
    outcome = extract_bounded(executor, write(directory, name), SLACK_SECONDS)
    assert outcome.ok, outcome.failure
    return json.loads(outcome.result.text)


def recorded_pids(tmp_path: Path, document_name: str) -> list[int]:
    """The pids a fault plugin wrote for ``document_name``."""
    pid_file = tmp_path / "pids" / f"{document_name}.pid"
    assert pid_file.exists(), f"the plugin never recorded its pids for {document_name}"
    return [int(line) for line in pid_file.read_text().split()]


def is_running(pid: int) -> bool:
    """True while ``pid`` is a live (non-zombie) process."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_all_gone(pids: list[int], within: float = 10.0) -> None:
    """Every pid must stop running (SIGKILL delivery is asynchronous, so allow a moment)."""
    deadline = time.monotonic() + within
    while any(is_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in pids if is_running(pid)]
    assert not survivors, f"processes survived the kill: {survivors}"


def assert_no_job_dirs(tmp_path: Path) -> None:
    """Nothing may be left in the executor's temp directory."""
    leftovers = list((tmp_path / "work").iterdir())
    assert not leftovers, f"temp files left behind: {leftovers}"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    limits = IsolationLimits(timeout_seconds=2)
    with make_executor(tmp_path, limits) as executor:
        before = probe(executor, tmp_path / "in")
        outcome = extract_bounded(executor, write(tmp_path / "in", "fault-hang.txt"), 2 + SLACK_SECONDS)
        assert outcome.failure is not None
        assert outcome.failure.reason == "timeout"
        assert outcome.failure.failure_class == "permanent"
        assert outcome.failure.plugin == "fault_hang"
        assert "fault-hang.txt" in outcome.failure.message
        assert "2 s limit (PROCESSING_TIMEOUT)" in outcome.failure.message
        assert_all_gone(recorded_pids(tmp_path, "fault-hang.txt"))
        after = probe(executor, tmp_path / "in")
        assert after["pid"] != before["pid"]
    assert_no_job_dirs(tmp_path)


@pytest.mark.parametrize(
    ("seconds_per_page", "expected"),
    [(None, "timeout"), (2.0, "ok"), (0.5, "timeout")],
)
def test_seconds_per_page_extends_the_budget_of_a_pdf(
    tmp_path: Path, seconds_per_page: float | None, expected: str
) -> None:
    slow_pdf = tmp_path / "in" / "fault-slow.pdf"
    slow_pdf.parent.mkdir(parents=True)
    slow_pdf.write_bytes(many_pages_pdf(3))
    limits = IsolationLimits(timeout_seconds=1, seconds_per_page=seconds_per_page)
    with make_executor(tmp_path, limits) as executor:
        outcome = extract_bounded(executor, slow_pdf, 10 + SLACK_SECONDS)  # the extractor sleeps 3 s
    if expected == "ok":
        assert outcome.ok, outcome.failure
        assert outcome.result.text == "slept 3 s"
        return
    assert outcome.failure is not None and outcome.failure.reason == "timeout"
    assert outcome.failure.plugin == "fault_slow"
    if seconds_per_page:
        assert "the 1 s limit (PROCESSING_TIMEOUT) plus 1.5 s for 3 pages" in outcome.failure.message


def test_cpu_limit_stops_a_spinning_extractor_as_timeout(tmp_path: Path) -> None:
    limits = IsolationLimits(timeout_seconds=60, cpu_seconds=1)
    with make_executor(tmp_path, limits) as executor:
        outcome = extract_bounded(executor, write(tmp_path / "in", "fault-spin.txt"), 60 + SLACK_SECONDS)
        assert outcome.failure is not None
        assert outcome.failure.reason == "timeout"
        assert "CPU time" in outcome.failure.message
        assert "fault-spin.txt" in outcome.failure.message
        assert extract_bounded(executor, write(tmp_path / "in", "good.txt"), SLACK_SECONDS).ok


def test_runaway_allocation_is_a_memory_failure(tmp_path: Path) -> None:
    limits = IsolationLimits(timeout_seconds=60, memory_mb=300)
    with make_executor(tmp_path, limits) as executor:
        before = probe(executor, tmp_path / "in")
        outcome = extract_bounded(executor, write(tmp_path / "in", "fault-memory.txt"), 60 + SLACK_SECONDS)
        assert outcome.failure is not None
        assert outcome.failure.reason == "memory"
        assert "fault-memory.txt" in outcome.failure.message
        assert "300 MB" in outcome.failure.message
        after = probe(executor, tmp_path / "in")
        assert after["pid"] != before["pid"], "a child that ran out of memory must be replaced"
    assert_no_job_dirs(tmp_path)


def test_address_space_limit_refuses_a_huge_allocation(tmp_path: Path) -> None:
    with make_executor(tmp_path, IsolationLimits(timeout_seconds=60, memory_mb=300)) as executor:
        outcome = extract_bounded(executor, write(tmp_path / "in", "fault-burst.txt"), 60 + SLACK_SECONDS)
        assert outcome.failure is not None, "a 4 GiB allocation succeeded under a 300 MB cap"
        assert outcome.failure.reason == "memory"
        assert outcome.failure.plugin == "fault_memory_burst"
        assert "fault-burst.txt: extraction ran out of memory under the 300 MB limit" in outcome.failure.message
        assert extract_bounded(executor, write(tmp_path / "in", "good.txt"), SLACK_SECONDS).ok


def test_watchdog_adds_up_the_process_tree(tmp_path: Path) -> None:
    limits = IsolationLimits(timeout_seconds=60, memory_mb=300)
    with make_executor(tmp_path, limits) as executor:
        outcome = extract_bounded(executor, write(tmp_path / "in", "fault-memtree.txt"), 60 + SLACK_SECONDS)
        assert outcome.failure is not None
        assert outcome.failure.reason == "memory"
        assert "more than 300 MB" in outcome.failure.message
        assert outcome.failure.plugin == "fault_memory_tree"
        assert_all_gone(recorded_pids(tmp_path, "fault-memtree.txt"))
        assert extract_bounded(executor, write(tmp_path / "in", "good.txt"), SLACK_SECONDS).ok


@pytest.mark.parametrize(("name", "signal_name"), [("fault-crash.txt", "SIGSEGV"), ("fault-abort.txt", "SIGABRT")])
def test_a_dying_child_is_a_crash_and_the_pool_goes_on(tmp_path: Path, name: str, signal_name: str) -> None:
    with make_executor(tmp_path, IsolationLimits(timeout_seconds=30)) as executor:
        outcome = extract_bounded(executor, write(tmp_path / "in", name), 30 + SLACK_SECONDS)
        assert outcome.failure is not None
        assert outcome.failure.reason == "crashed"
        assert signal_name in outcome.failure.message
        assert name in outcome.failure.message
        good = extract_bounded(executor, write(tmp_path / "in", "good.txt", "still working\n"), SLACK_SECONDS)
        assert good.ok
        assert "still working" in good.result.text


def test_children_are_recycled_after_n_documents(tmp_path: Path) -> None:
    with make_executor(tmp_path, IsolationLimits(timeout_seconds=30, recycle_after=3)) as executor:
        pids = [probe(executor, tmp_path / "in", f"probe-{index}.txt")["pid"] for index in range(7)]
    assert len(set(pids[0:3])) == 1
    assert len(set(pids[3:6])) == 1
    assert len({pids[0], pids[3], pids[6]}) == 3


def test_child_runs_in_its_own_group_with_limits_and_a_job_temp_dir(tmp_path: Path) -> None:
    with make_executor(tmp_path, IsolationLimits(timeout_seconds=30, memory_mb=500)) as executor:
        facts = probe(executor, tmp_path / "in")
    work = str(tmp_path / "work")
    assert facts["pgid"] == facts["pid"] == facts["sid"]
    assert facts["pgid"] != os.getpgrp()
    assert facts["tmpdir_env"].startswith(work + os.sep)
    assert facts["tempfile_dir"] == facts["tmpdir_env"] == facts["cwd"]
    assert facts["leftover"].startswith(facts["tmpdir_env"])
    assert not Path(facts["leftover"]).exists(), "the job's temp dir must be removed after the document"
    assert facts["rlimit_core"] == 0
    assert 500 * 1024 * 1024 < facts["rlimit_as"] < 2 * 1024 * 1024 * 1024
    assert facts["rlimit_cpu"] > 0
    assert facts["omp_thread_limit"] == "1"
    assert_no_job_dirs(tmp_path)


def test_two_workers_run_in_parallel_and_close_ends_every_child(tmp_path: Path) -> None:
    executor = make_executor(tmp_path, IsolationLimits(timeout_seconds=3), workers=2)
    results: list[Outcome] = []
    hang = threading.Thread(
        target=lambda: results.append(executor(local_document(write(tmp_path / "in", "fault-hang-a.txt"))))
    )
    hang.start()
    facts = probe(executor, tmp_path / "in")  # served by the other child while the first one hangs
    hang.join(3 + SLACK_SECONDS)
    assert not hang.is_alive()
    assert results[0].failure is not None and results[0].failure.reason == "timeout"
    executor.close()
    executor.close()
    assert_all_gone([facts["pid"]])
    with pytest.raises(RuntimeError):
        executor(local_document(write(tmp_path / "in", "late.txt")))


def test_children_die_with_their_parent(tmp_path: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from extractkit.models import ExtractOptions
from extractkit.plugins import PluginSpec
from extractkit.processing import local_document
from runner.isolation import IsolatedExecutor, IsolationLimits
spec = PluginSpec(entry_points=False, extra={FAULT_PLUGINS!r})
options = ExtractOptions(extra={{"fault_pid_dir": {str(tmp_path / "pids")!r}}})
executor = IsolatedExecutor(spec, options, IsolationLimits(timeout_seconds=600), 1, temp_dir={str(tmp_path / "work")!r})
executor(local_document({str(write(tmp_path / "in", "fault-hang-orphan.txt"))!r}))
"""
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        pid_file = tmp_path / "pids" / "fault-hang-orphan.txt.pid"
        deadline = time.monotonic() + SLACK_SECONDS
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = recorded_pids(tmp_path, "fault-hang-orphan.txt")
        assert all(is_running(pid) for pid in pids)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert_all_gone(pids)


def test_a_plugin_that_fails_to_load_in_the_child_is_a_setup_error(tmp_path: Path) -> None:
    spec = PluginSpec(entry_points=False, extra=(str(tmp_path / "missing_plugin.py"),))
    with pytest.raises(PluginError, match="missing_plugin"):
        IsolatedExecutor(spec, ExtractOptions(), IsolationLimits(), 1, temp_dir=tmp_path / "work")


def test_the_parent_refuses_to_unpickle_anything_but_results() -> None:
    class Exploit:
        def __reduce__(self) -> tuple:
            return (os.system, ("true",))

    with pytest.raises(pickle.UnpicklingError, match="may not be sent"):
        load_child_message(pickle.dumps(("outcome", (None, Exploit(), None))))


def test_a_subverted_worker_cannot_make_the_parent_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "exploited"
    with make_executor(tmp_path, IsolationLimits(timeout_seconds=30)) as executor:
        document = write(tmp_path / "in", "fault-exploit.txt", f"{marker}\n")
        outcome = extract_bounded(executor, document, 30 + SLACK_SECONDS)
        assert outcome.failure is not None
        assert outcome.failure.reason == "crashed"
        assert "refuses" in outcome.failure.message
        assert not marker.exists(), "the parent unpickled code sent by the worker"
        assert extract_bounded(executor, write(tmp_path / "in", "good.txt"), SLACK_SECONDS).ok


def test_in_process_executor_gives_the_same_result(tmp_path: Path, plugins) -> None:
    path = write(tmp_path / "in", "plain.txt", "Hello isolation\n")
    in_process = InProcessExecutor(plugins, ExtractOptions())(local_document(path))
    spec = PluginSpec(entry_points=False)
    with IsolatedExecutor(spec, ExtractOptions(), IsolationLimits(), 1, temp_dir=tmp_path / "work") as executor:
        isolated = extract_bounded(executor, path, SLACK_SECONDS)
    assert isolated.result == in_process.result
    assert isolated.document == in_process.document


# -- the whole worker through the real command line --------------------------

FAULT_FILES = {"fault-hang.txt": "timeout", "fault-memory.txt": "memory", "fault-crash.txt": "crashed"}
WORKERS = 2
MEMORY_LIMIT_MB = 1024
#: What the worker process itself may use: plugins, the pool bookkeeping, results in flight.
PARENT_CAP_MB = 512
CLI_BOUND_SECONDS = 240


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[HostileCase]]:
    """The hostile corpus plus the fault files, generated once for the module."""
    folder = tmp_path_factory.mktemp("hostile") / "in"
    cases = generate(folder)
    for name in FAULT_FILES:
        write(folder, name, "this file is handled by a fault plugin\n")
    return folder, cases


def write_worker_config(tmp_path: Path, corpus_dir: Path) -> Path:
    """The worker.toml of the run: folder source, JSONL sink, isolation with two workers."""
    plugins = ", ".join(
        json.dumps(str(TEST_PLUGINS / name)) for name in ("fault_hang.py", "fault_memory.py", "fault_crash.py")
    )
    config = tmp_path / "worker.toml"
    config.write_text(
        f"""
[source]
type = "folder"
path = {json.dumps(str(corpus_dir))}
[sink]
type = "jsonl"
path = {json.dumps(str(tmp_path / "out.jsonl"))}
[worker]
max_workers = {WORKERS}
processing_timeout = 15
seconds_per_page = 10
memory_limit_mb = {MEMORY_LIMIT_MB}
recycle_after = 20
temp_dir = {json.dumps(str(tmp_path / "work"))}
failure_log = {json.dumps(str(tmp_path / "failures.jsonl"))}
isolation = true
[plugins]
load = [{plugins}]
""",
        encoding="utf-8",
    )
    return config


def cli_command() -> list[str]:
    """The installed ``extractkit`` script, or the module when it is not on PATH."""
    script = shutil.which("extractkit")
    return [script] if script else [sys.executable, "-m", "runner.cli"]


def run_and_sample(command: list[str], env: dict[str, str], bound: float) -> tuple[int, str, int, int]:
    """Run the command, sampling the RSS of it and its descendants; return (status, stderr, peak parent, peak tree)."""
    peak_parent = peak_tree = 0
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        stderr_chunks: list[str] = []
        reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)
        reader.start()
        deadline = time.monotonic() + bound
        parent = psutil.Process(process.pid)
        while process.poll() is None:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the worker did not finish within {bound} s")
            try:
                parent_rss = parent.memory_info().rss
                tree_rss = parent_rss + sum(child.memory_info().rss for child in parent.children(recursive=True))
            except psutil.Error:
                continue  # a child ended between listing and measuring
            peak_parent, peak_tree = max(peak_parent, parent_rss), max(peak_tree, tree_rss)
            time.sleep(0.05)
        process.stdout.read()
        reader.join(10)
    return process.returncode, "".join(stderr_chunks), peak_parent, peak_tree


def processes_started_by_the_run(marker: str) -> list[psutil.Process]:
    """Live processes whose command line or environment mentions the run's temporary directory."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE or process.pid == os.getpid():
            continue
        texts = [*(process.info["cmdline"] or ()), *(process.info["environ"] or {}).values()]
        if any(marker in text for text in texts):
            found.append(process)
    return found


def test_hostile_corpus_through_the_real_cli(tmp_path: Path, hostile_corpus) -> None:
    corpus_dir, cases = hostile_corpus
    config = write_worker_config(tmp_path, corpus_dir)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "EXTRACTKIT_FAULT_PID_DIR": str(tmp_path / "pids")}
    status, stderr, peak_parent, peak_tree = run_and_sample(
        [*cli_command(), "run", "--config", str(config), "--no-progress"], env, CLI_BOUND_SECONDS
    )
    assert status == 0, stderr[-3000:]
    print(f"peak RSS: worker {peak_parent / 2**20:.0f} MB, worker and children {peak_tree / 2**20:.0f} MB")

    assert peak_parent < PARENT_CAP_MB * 1024 * 1024, f"worker peaked at {peak_parent / 2**20:.0f} MB"
    tree_cap = (PARENT_CAP_MB + WORKERS * MEMORY_LIMIT_MB) * 1024 * 1024
    assert peak_tree < tree_cap, f"worker and children peaked at {peak_tree / 2**20:.0f} MB"

    time.sleep(1)  # SIGKILL delivery is asynchronous
    leftovers = processes_started_by_the_run(str(tmp_path))
    assert not leftovers, f"processes outlived the run: {[p.info['cmdline'] for p in leftovers]}"
    assert_all_gone(recorded_pids(tmp_path, "fault-hang.txt"), within=1)
    remaining = [path for path in (tmp_path / "work").rglob("*")]
    assert not remaining, f"temp files left behind: {remaining}"

    output = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    records = {
        Path(record["uri"].removeprefix("file://")).name: record for record in map(json.loads, output.splitlines())
    }
    expected = {case.name: case.expected for case in cases} | FAULT_FILES
    assert set(records) == set(expected), "every file needs exactly one record"
    outcomes = {name: "ok" if record["type"] == "result" else record["reason"] for name, record in records.items()}
    assert outcomes == expected
    for case in cases:
        if case.contains:
            assert case.contains in records[case.name]["text"], case.name
        if case.must_not_contain:
            assert case.must_not_contain not in output, f"{case.name} leaked {case.must_not_contain!r}"
    for name in FAULT_FILES:
        assert records[name]["class"] == "permanent"
        assert name in records[name]["message"], records[name]["message"]
    assert "15 s limit (PROCESSING_TIMEOUT)" in records["fault-hang.txt"]["message"]
