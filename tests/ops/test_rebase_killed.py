"""`kill -9` in the middle of a bulk rebase on PostgreSQL: every item is either at its old version or fully
rebased (version, head, patch and audit entry together), and the rerun rebases the rest, none twice."""
from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from items import patches
from items.records import AuditRecord, LocalItemRecord, LocalVersionRecord
from scripts.bench.bench_rebase import BASIC, setup
from server.db import connect

ITEMS = 400  # four batches of 100, each its own transaction; the progress line at 50% comes after two
BATCH = "100"
GOVHALL = str(Path(sys.executable).with_name("govhall"))


def state() -> dict[str, dict]:
    """impl_code → {head, based_on, versions: {version: (based_on, document, patch)}, rebase_audits}."""
    out: dict[str, dict] = {}
    for code, latest, based_on in LocalItemRecord.select(LocalItemRecord.impl_code, LocalItemRecord.latest_version,
                                                         LocalItemRecord.based_on_catalogue_version).tuples():
        out[code] = {"head": latest, "based_on": based_on, "versions": {}, "rebase_audits": []}
    V = LocalVersionRecord
    for code, version, based_on, document, patch in V.select(V.impl_code, V.version, V.based_on_catalogue_version,
                                                              V.document, V.patch).tuples():
        out[code]["versions"][version] = (based_on, document, patch)
    for target, details in (AuditRecord.select(AuditRecord.target, AuditRecord.details)
                            .where(AuditRecord.action == "item.rebase").tuples()):
        out[target]["rebase_audits"].append(details["version"])
    return out


def check_whole(items: dict[str, dict]) -> collections.Counter:
    """Assert each item is at its old version 2 (on catalogue v1) or rebased once to version 3 (on v2) with
    its patch and one audit entry; return how many are in each state."""
    seen: collections.Counter = collections.Counter()
    for code, item in items.items():
        versions = item["versions"]
        assert item["head"] == max(versions), (code, item["head"], sorted(versions))
        if item["head"] == 2:
            assert (sorted(versions), item["based_on"], item["rebase_audits"]) == ([1, 2], 1, []), code
            seen["old"] += 1
            continue
        assert sorted(versions) == [1, 2, 3] and item["based_on"] == 2 == versions[3][0], (code, item)
        assert item["rebase_audits"] == [3], (code, item["rebase_audits"])
        assert patches.apply_patch(versions[2][1], versions[3][2]) == versions[3][1], code
        seen["rebased"] += 1
    return seen


def read_state(url: str) -> dict[str, dict]:
    db = connect(url, migrate=False)
    try:
        with db.connection_context():
            return state()
    finally:
        db.close_all()


def test_a_bulk_rebase_killed_mid_write_leaves_whole_items_and_the_rerun_finishes(postgres_url, tmp_path):
    db = connect(postgres_url, migrate=False)
    with db.connection_context():
        setup(ITEMS, seed=7)  # the catalogue's v1, ITEMS local items edited on it, then the catalogue's v2
    db.close_all()
    env = dict(os.environ, GOVHALL_DATABASE_URL=postgres_url, GOVHALL_VAR_DIR=str(tmp_path),
               GOVHALL_SECRET_KEY="kill-test-secret-0123456789")
    command = [GOVHALL, "rebase", "--basic-code", BASIC, "--batch-size", BATCH]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # progress lines: "rebase [############.............] 1500/3000 50%"
        seen.append(line)
        if line.startswith("rebase [") and line.strip().endswith(" 50%"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(60)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, seen  # killed while writing, before the end

    partly = check_whole(read_state(postgres_url))
    assert partly["old"] and partly["rebased"], partly  # stopped half-way: some batches written, not all

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = json.loads(rerun.stdout)
    assert summary["items"] == partly["old"]  # only the items still on catalogue v1 were looked at again
    done = check_whole(read_state(postgres_url))
    assert done["rebased"] == partly["rebased"] + summary["rebased"]
    # what is left waits for its editors: a conflict or a rule to decide, never an item the kill broke
    assert done["old"] == summary["conflicts"] + summary["invalid"] and summary["stale"] == 0, summary
