"""Schedules against a real futured, in the blocking and the asyncio
client: a round trip (create every 1 s paused, get, list, trigger, the
triggered task's result, delete) and the errors (ScheduleExists,
NoSuchSchedule, InvalidParams naming the field).  The schedules are
created paused, so nothing here depends on when futured fires them."""
import asyncio
import uuid

import pytest

import futured
from test_client import T


def name():
    """A schedule name no other test uses."""
    return "t-" + uuid.uuid4().hex[:12]


def test_schedule_round_trip(client, label):
    n = name()
    s = client.create_schedule(n, ["echo", "scheduled"], every=1,
                               paused=True, labels=label)
    assert s["name"] == n and s["every"] == 1 and s["paused"] is True
    assert s["next_at"] is None and s["last"] is None
    assert s["task"]["argv"] == ["echo", "scheduled"]
    assert s["task"]["kind"] == "exec" and "parent" not in s["task"]
    assert client.get_schedule(n)["name"] == n
    assert n in [x["name"] for x in client.schedules()]
    assert n in [x["name"] for x in client.schedules(paused=True)]
    assert n not in [x["name"] for x in client.schedules(paused=False)]

    r = client.trigger_schedule(n)
    assert r["outcome"] == "fired" and isinstance(r["task"], int)
    assert isinstance(r["scheduled_at"], str)
    t = client.task(r["task"])
    assert t.result(timeout=T)["stdout"] == "scheduled\n"
    info = t.get()
    assert info["labels"]["schedule"] == n
    assert info["labels"]["test"] == label["test"]
    assert "scheduled_at" in info["labels"]
    assert info["key"].startswith("schedule:%s:trigger:" % n)
    last = client.get_schedule(n)["last"]
    assert last["task"] == r["task"] and last["state"] == "succeeded"

    assert client.resume_schedule(n)["paused"] is False
    assert client.pause_schedule(n)["paused"] is True
    s = client.update_schedule(n, every=3600)
    assert s["every"] == 3600 and s["paused"] is True

    assert client.delete_schedule(n) is None
    assert n not in [x["name"] for x in client.schedules()]
    assert t.result(timeout=T)["stdout"] == "scheduled\n"    # it stays


def test_schedule_errors(client):
    n = name()
    client.create_schedule(n, "true", every=60, paused=True)
    with pytest.raises(futured.ScheduleExists) as info:
        client.create_schedule(n, "true", every=60, paused=True)
    assert info.value.name == n and info.value.code == 12
    assert "schedule %s exists" % n in str(info.value)
    client.delete_schedule(n)
    for call in (client.get_schedule, client.delete_schedule,
                 client.pause_schedule, client.resume_schedule,
                 client.trigger_schedule):
        with pytest.raises(futured.NoSuchSchedule) as info:
            call(n)
        assert info.value.name == n and isinstance(info.value, LookupError)
    with pytest.raises(futured.InvalidParams) as info:
        client.create_schedule(name(), ["true"], cron="61 * * * *")
    assert info.value.field == "cron"
    with pytest.raises(futured.InvalidParams) as info:
        client.create_schedule(name(), ["true"], cron="0 * * * *",
                               tz="Mars/Olympus_Mons")
    assert info.value.field == "tz"
    with pytest.raises(futured.InvalidParams):
        client.create_schedule(name(), ["true"], every=60, key="k")
    with pytest.raises(TypeError):
        client.create_schedule(name(), every=60)          # no task
    with pytest.raises(TypeError):
        client.update_schedule(n, queue="q")               # a task field


def test_schedule_async(daemon):
    async def go():
        async with futured.AsyncClient(socket=daemon.socket,
                                       timeout=60) as c:
            n = name()
            s = await c.create_schedule(n, ["echo", "async"], every=1,
                                        paused=True)
            assert s["paused"] is True
            assert (await c.get_schedule(n))["name"] == n
            assert n in [x["name"] for x in await c.schedules()]
            r = await c.trigger_schedule(n, overlap="allow_all")
            assert r["outcome"] == "fired"
            res = await c.task(r["task"]).result(timeout=T)
            assert res["stdout"] == "async\n"
            await c.delete_schedule(n)
            with pytest.raises(futured.NoSuchSchedule):
                await c.get_schedule(n)
    asyncio.run(go())
