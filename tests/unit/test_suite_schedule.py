"""The suite's xdist scheduling (tests/conftest.py): the shared modules stay whole in one worker,
the longest units start first, and a worker busy with a long unit is given the shortest ones.

Driven with stand-in workers that only record what they are sent, as xdist's DSession drives it."""

from __future__ import annotations

from types import SimpleNamespace

from tests import conftest

LEDGER = "tests/integration/test_ledger_properties.py::test_identity"
CLUSTER = [f"tests/cluster/test_celery_backfill.py::test_{n}" for n in range(3)]
DOCS = [f"tests/e2e/test_documented_commands.py::test_block[{n}]" for n in range(3)]
SHORT = [f"tests/unit/test_ids.py::test_{n}" for n in range(12)]


class Worker:
    def __init__(self, name: str):
        self.name, self.sent, self.shutting_down = name, [], False
        self.gateway = SimpleNamespace(id=name)

    def send_runtest_some(self, indices):
        self.sent.extend(indices)

    def shutdown(self):
        self.shutting_down = True


def scheduler(workers: int):
    config = SimpleNamespace(getvalue=lambda name: {"dist": "loadgroup", "tx": [f"{workers}*popen"]}[name],
                             option=SimpleNamespace(loadscopereorder=True))
    log = SimpleNamespace(loadscopesched=lambda *a: None)
    return conftest.pytest_xdist_make_scheduler(config, log)


def collected() -> list[str]:
    """In the order pytest_collection_modifyitems leaves them (LONG_FIRST units first)."""
    items = [SimpleNamespace(nodeid=n, fspath=n, add_marker=lambda m: None) for n in [*SHORT[:6], LEDGER, *DOCS,
                                                                                      *SHORT[6:], *CLUSTER]]
    conftest.pytest_collection_modifyitems(None, items)
    return [i.nodeid for i in items]


def run(workers: int):
    sched, nodes, ids = scheduler(workers), [Worker(f"gw{n}") for n in range(workers)], collected()
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, ids)
    sched.schedule()
    return {node.name: [ids[i] for i in node.sent] for node in nodes}, sched


def test_long_units_first_each_to_its_own_worker_and_shared_modules_whole():
    sent, _ = run(3)
    firsts = [tests[0] for tests in sent.values()]
    assert firsts == [CLUSTER[0], DOCS[0], LEDGER]  # LONG_FIRST's order, one long unit per worker
    assert sent["gw0"][:3] == CLUSTER and sent["gw1"][:3] == DOCS  # a group whole, in one worker


def test_a_worker_busy_with_a_long_unit_is_given_the_shortest_units_left():
    sent, sched = run(3)
    ledger_worker = sent["gw2"]
    assert ledger_worker[0] == LEDGER
    # queued behind the ledger test: a unit from the queue's end (the last collected), not the next in line
    assert ledger_worker[1:] == [SHORT[-1]]
    assert list(sched.workqueue)[0] == SHORT[0]  # the next free worker still takes the queue's front
