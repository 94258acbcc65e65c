"""Task trees and groups against a real futured, in the blocking and the
asyncio client: submit's parent (AUTO from $FUTURED_TASK_ID, None, a Task)
and child_policy, a Python script run by an exec task whose submits are
its children, create_group, close_group, task_group (results, GroupFailed
carrying the members' failures, the block raising, a member refused by a
failed group) and as_completed(group=).  Orders are made by the test,
never by timing; timeouts only guard against hangs."""
import asyncio
import builtins
import json
import os
import pickle
import sys
import threading

import pytest

import futured
from futured import _common
from conftest import PKG, wait_until
from test_client import LONG, T


def later(fn, *args):
    th = threading.Thread(target=fn, args=args, daemon=True)
    th.start()
    return th


# --- parent, child_policy -------------------------------------------------

def test_parent_default_from_the_environment(client, monkeypatch):
    p = client.create_future()
    assert futured.default_parent() is None
    assert "parent" not in client.submit(seconds=0).get()
    monkeypatch.setenv("FUTURED_TASK_ID", str(p.id))
    assert futured.default_parent() == p.id
    child = client.submit(seconds=0)
    assert child.get()["parent"] == p.id
    auto = client.submit(seconds=0, parent=futured.AUTO)
    assert auto.get()["parent"] == p.id
    assert "parent" not in client.submit(seconds=0, parent=None).get()
    other = client.create_future(parent=None)
    assert "parent" not in other.get()
    assert client.submit(seconds=0, parent=other).get()["parent"] == other.id
    assert client.submit(seconds=0, parent=other.id).get()["parent"] == other.id
    with client.batch() as b:
        e = b.submit(seconds=0)
    assert e.result().get()["parent"] == p.id
    assert [t["id"] for t in client.list(parent=p)] == \
        [e.result().id, auto.id, child.id]
    assert [t.id for t in p.children()] == [e.result().id, auto.id, child.id]
    # a value that is no id is not a parent
    for bad in ("", "0", "x", "-3", "1.5", "9" * 17):
        monkeypatch.setenv("FUTURED_TASK_ID", bad)
        assert futured.default_parent() is None
    monkeypatch.setenv("FUTURED_TASK_ID", "99999999")
    with pytest.raises(futured.NoSuchTask) as info:
        client.submit(seconds=0)
    assert info.value.data.get("field") == "parent"
    assert pickle.loads(pickle.dumps(futured.AUTO)) is futured.AUTO
    monkeypatch.delenv("FUTURED_TASK_ID")
    p.set_result(None)
    p.result(timeout=T)
    with pytest.raises(futured.InvalidParams) as refused:
        client.submit(seconds=0, parent=p)
    assert refused.value.field == "parent"


def test_child_policy_and_a_waiting_parent(client):
    p = client.submit(["true"], child_policy="cancel")
    assert p.get()["child_policy"] == "cancel"
    with pytest.raises(futured.InvalidParams) as bad:
        client.submit(seconds=0, child_policy="reap")
    assert bad.value.field == "child_policy"
    # a future parent's own part ends when it is resolved: it then waits
    w = client.create_future()
    kid = client.create_future(parent=w)
    assert w.set_result("mine") == "running"
    assert w.get()["state"] == "running" and not w.done()
    kid.set_result(1)
    assert w.result(timeout=T) == "mine"


def test_python_script_in_an_exec_task_makes_children(client, tmp_path):
    """An exec task running a Python script with this client: its
    submits (and its task group) are its children, found by
    FUTURED_SOCKET and FUTURED_TASK_ID alone."""
    script = (
        "import json, sys, futured\n"
        "with futured.Client() as c:\n"
        "    gate = c.create_future()\n"
        "    with c.task_group() as g:\n"
        "        a = g.submit(seconds=0, result='a')\n"
        "        b = g.submit(['echo', 'b'])\n"
        "    with open(sys.argv[1], 'w') as f:\n"
        "        json.dump({'gate': gate.id, 'group': g.id,\n"
        "                   'members': [a.id, b.id],\n"
        "                   'results': [r['state'] for r in g.result()]}, f)\n"
        "print('script-done')\n")
    ids_file = tmp_path / "ids.json"
    p = client.submit([sys.executable, "-c", script, str(ids_file)],
                      env={"PYTHONPATH": PKG})
    wait_until(lambda: p.get().get("attempts"), T, "the script's end")
    out = p.get()
    assert out["state"] == "running", out    # waits for the gate
    assert out["attempts"][0]["outcome"] == "succeeded"
    ids = json.loads(ids_file.read_text())
    assert ids["results"] == ["succeeded", "succeeded"]
    assert [t["id"] for t in client.list(parent=p)] == \
        [ids["group"], ids["gate"]]
    group = client.task(ids["group"])
    assert group.get()["parent"] == p.id
    assert sorted(t["id"] for t in client.list(parent=group)) == \
        ids["members"]
    client.set_result(ids["gate"], "open")
    assert p.result(timeout=T)["stdout"] == "script-done\n"


# --- groups ---------------------------------------------------------------

def test_create_group_and_close(client):
    g = client.create_group(labels={"t": "g"})
    assert g.info["kind"] == "group" and g.info["spec"] == {"kind": "group"}
    m1 = client.submit(seconds=0, result="a", parent=g)
    m2 = client.create_future(parent=g)
    assert client.close_group(g) is True
    assert g.close() is False                   # closed already
    with pytest.raises(futured.InvalidParams) as refused:
        client.submit(seconds=0, parent=g)
    assert refused.value.field == "parent"
    m2.set_result({"b": 2})
    assert g.result(timeout=T) == [
        {"id": m1.id, "state": "succeeded", "result": "a"},
        {"id": m2.id, "state": "succeeded", "result": {"b": 2}}]
    assert client.close_group(g.id) is False
    empty = client.create_group()
    assert empty.close() is True and empty.result(timeout=T) == []
    s = client.submit(seconds=LONG)
    with pytest.raises(futured.InvalidParams):
        s.close()
    s.cancel()
    gather = client.create_group(return_exceptions=True)
    assert gather.info["spec"] == {"kind": "group", "return_exceptions": True}
    with pytest.raises(TypeError):
        client.create_group(kind="future")


def test_a_failed_group_raises_group_failed(client):
    g = client.create_group()
    slow = client.submit(seconds=LONG, parent=g)
    bad = client.submit(["sh", "-c", "echo boom >&2; exit 3"], parent=g)
    with pytest.raises(futured.GroupFailed) as info:
        g.result(timeout=T)
    err = info.value
    assert isinstance(err, futured.TaskFailed) and err.task_id == g.id
    assert err.type == "ExceptionGroup" and err.code == 1
    assert [e.task_id for e in err.exceptions] == [bad.id]
    assert err.exceptions[0].type == "ProcessError"
    assert "boom" in err.exceptions[0].stderr_tail
    assert slow.state == "cancelled"
    if hasattr(builtins, "ExceptionGroup"):
        assert isinstance(err, builtins.ExceptionGroup)
        match, rest = err.split(futured.TaskFailed)
        assert rest is None and match is err
        match, rest = err.split(lambda e: e.task_id == bad.id and
                                not isinstance(e, futured.GroupFailed))
        assert [e.task_id for e in match.exceptions] == [bad.id]
        assert "task %d failed" % g.id in str(match)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is futured.GroupFailed
    assert [e.task_id for e in again.exceptions] == [bad.id]
    # nested: a failed member that is a group is a GroupFailed too
    outer = client.create_group()
    inner = client.create_group(parent=outer)
    client.submit(["false"], parent=inner)
    with pytest.raises(futured.GroupFailed) as nested:
        outer.result(timeout=T)
    assert [e.task_id for e in nested.value.exceptions] == [inner.id]
    assert isinstance(nested.value.exceptions[0], futured.GroupFailed)


def test_task_group(client):
    with client.task_group(labels={"tg": "ok"}) as g:
        assert isinstance(g, futured.TaskGroup) and g.info["kind"] == "group"
        a = g.submit(seconds=0, result=1)
        f = g.create_future()
        later(f.set_result, 2)
        inner = g.create_group()
        inner.close()
        with pytest.raises(TypeError):
            g.submit(seconds=0, parent=None)
    assert g.done() and g.state == "succeeded"
    assert [(r["id"], r.get("result")) for r in g.result()] == \
        [(a.id, 1), (f.id, 2), (inner.id, [])]
    assert a.get()["parent"] == g.id
    # return_exceptions: failures are entries
    with client.task_group(return_exceptions=True) as g2:
        g2.submit(["false"])
        g2.submit(seconds=0)
    assert [r["state"] for r in g2.result()] == ["failed", "succeeded"]


def test_task_group_raises_when_a_member_fails(client):
    with pytest.raises(futured.GroupFailed) as info:
        with client.task_group() as g:
            slow = g.submit(seconds=LONG)
            bad = g.submit(["sh", "-c", "exit 4"])
    assert info.value.task_id == g.id
    assert [e.exception["exit_code"] for e in info.value.exceptions] == [4]
    assert slow.state == "cancelled" and bad.state == "failed"


def test_task_group_block_raising_cancels_the_group(client):
    with pytest.raises(ValueError, match="stop"):
        with client.task_group() as g:
            m = g.submit(seconds=LONG)
            raise ValueError("stop")
    assert g.state == "cancelled" and m.state == "cancelled"
    assert m.get()["exception"]["message"] == \
        "task_group: the block raised ValueError: stop"


def test_task_group_member_refused_by_a_failed_group(client):
    with pytest.raises(futured.GroupFailed) as info:
        with client.task_group() as g:
            bad = g.submit(["false"])
            bad.wait(timeout=T)
            wait_until(lambda: g.get()["state"] == "failed", T,
                       "the group's failure")
            g.submit(seconds=0)         # refused: the group failed
    assert isinstance(info.value.__cause__, futured.InvalidParams)
    assert [e.task_id for e in info.value.exceptions] == [bad.id]


def test_as_completed_group(client):
    g = client.create_group(return_exceptions=True)
    a = client.create_future(parent=g)
    b = client.create_future(parent=g)
    it = client.as_completed(group=g, timeout=T)
    later(b.set_result, "b")
    first = next(it)
    assert first.id == b.id and first.state == "succeeded"
    j = client.submit(seconds=0, parent=g)      # joins while it runs
    assert next(it).id == j.id
    a.set_exception("no")
    third = next(it)
    assert third.id == a.id and third._final == "failed"
    # every member came, the group is open: it goes on until g ends
    closer = threading.Timer(0.5, g.close)
    closer.start()
    assert list(it) == []
    assert g.done()
    # ended already: its members, in id order
    assert [t.id for t in client.as_completed(group=g.id)] == \
        [a.id, b.id, j.id]
    # open with nothing left to wait for: TaskNotDone at the timeout
    h = client.create_group()
    with pytest.raises(futured.TaskNotDone):
        list(client.as_completed(group=h, timeout=0.3))
    with pytest.raises(TypeError):
        list(client.as_completed([a], group=h))
    with pytest.raises(TypeError):
        list(client.as_completed())
    with client.task_group() as tg:
        x = tg.submit(seconds=0)
        first = next(iter(tg.as_completed(timeout=T)))  # (tg is open)
        assert first.id == x.id
    h.close()


# --- asyncio --------------------------------------------------------------

def run(coro_fn, daemon):
    async def main():
        async with futured.AsyncClient(socket=daemon.socket, timeout=60) as c:
            return await coro_fn(c)
    return asyncio.run(main())


def test_async_parent_and_groups(daemon, monkeypatch):
    async def go(c):
        p = await c.create_future()
        monkeypatch.setenv("FUTURED_TASK_ID", str(p.id))
        kid = await c.submit(seconds=0)
        assert (await kid.get())["parent"] == p.id
        assert "parent" not in await (await c.submit(seconds=0,
                                                     parent=None)).get()
        assert [t.id async for t in p.children()] == [kid.id]
        monkeypatch.delenv("FUTURED_TASK_ID")
        g = await c.create_group()
        assert "parent" not in await g.get()
        m = await c.create_future(parent=g)
        assert await c.close_group(g) is True
        assert await g.close() is False
        await m.set_result(5)
        assert await g == [{"id": m.id, "state": "succeeded", "result": 5}]
        await p.set_result(None)
    run(go, daemon)


def test_async_task_group(daemon):
    async def go(c):
        async with c.task_group() as g:
            assert isinstance(g, futured.AsyncTaskGroup)
            a = await g.submit(seconds=0, result="a")
            f = await g.create_future()
            asyncio.get_running_loop().call_soon(
                lambda: asyncio.ensure_future(f.set_result("f")))
        assert [r["result"] for r in await g.result()] == ["a", "f"]
        assert (await a.get())["parent"] == g.id
        with pytest.raises(futured.GroupFailed) as info:
            async with c.task_group() as g2:
                slow = await g2.submit(seconds=LONG)
                bad = await g2.submit(["false"])
        assert [e.task_id for e in info.value.exceptions] == [bad.id]
        assert await slow.state() == "cancelled"
        with pytest.raises(KeyError):
            async with c.task_group() as g3:
                m = await g3.submit(seconds=LONG)
                raise KeyError("k")
        assert await g3.state() == "cancelled"
        assert await m.state() == "cancelled"
    run(go, daemon)


def test_async_task_group_cancelled_block(daemon):
    """The task running the block is cancelled: the group is cancelled
    too (the cancel is shielded), and CancelledError goes on."""
    async def go(c):
        started = asyncio.Event()
        made = {}

        async def body():
            async with c.task_group() as g:
                made["g"] = g
                made["m"] = await g.submit(seconds=LONG)
                started.set()
                await asyncio.sleep(LONG)
        t = asyncio.ensure_future(body())
        await asyncio.wait_for(started.wait(), T)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert await made["g"].state() == "cancelled"
        assert await made["m"].state() == "cancelled"
    run(go, daemon)


def test_async_as_completed_group(daemon):
    async def go(c):
        g = await c.create_group()
        a = await c.create_future(parent=g)
        b = await c.create_future(parent=g)
        seen, joined = [], []

        async def consume():
            async for t in c.as_completed(group=g, timeout=T):
                assert isinstance(t, futured.AsyncTask)
                seen.append(t.id)
                if len(seen) == 1:
                    joined.append((await c.submit(seconds=0, parent=g)).id)
                elif len(seen) == 2:
                    await a.set_result(1)
        consumer = asyncio.ensure_future(consume())
        await b.set_result(2)
        for _ in range(T * 20):
            if len(seen) == 3:
                break
            await asyncio.sleep(0.05)
        assert seen == [b.id, joined[0], a.id]
        # every member came, the group is open: it goes on until g ends
        await asyncio.sleep(1.5)
        assert not consumer.done()
        await g.close()
        await asyncio.wait_for(consumer, T)
        assert await g.done()
        h = await c.create_group()
        with pytest.raises(futured.TaskNotDone):
            async for _ in c.as_completed(group=h, timeout=0.3):
                pass
        await h.close()
    run(go, daemon)


def test_common_helpers():
    assert _common.parent_id(None) is None
    assert _common.parent_id(7) == 7
    assert _common.list_parent(0) == 0 and _common.list_parent(None) is None
    with pytest.raises(TypeError):
        _common.parent_id("7")
    assert _common.member_fields(3, {"seconds": 1}) == {"seconds": 1,
                                                        "parent": 3}
    msg = _common.cancel_message(ValueError("x" * 2000))
    assert len(msg.encode()) <= 1024 and msg.startswith("task_group: ")
    e = futured.InvalidParams("Invalid params", -32602,
                              {"field": "parent", "reason": "group 12 is closed"})
    assert _common.group_refused(e, 12) and not _common.group_refused(e, 1)
    assert os.environ.get("FUTURED_TASK_ID") is None
