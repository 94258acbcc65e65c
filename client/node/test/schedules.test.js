/*
 * Schedules on a real futured: a round trip (createSchedule every 1 s
 * paused, getSchedule, listSchedules, triggerSchedule, the triggered
 * task's result, deleteSchedule) and the errors (ScheduleExists,
 * NoSuchSchedule, InvalidParams naming the field). The schedules are
 * created paused, so nothing here depends on when futured fires them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
	Client, InvalidParams, NoSuchSchedule, ScheduleExists,
} from '../index.js';
import { startDaemon } from './helpers/daemon.js';

let daemon;
let client;

before(async () => {
	daemon = await startDaemon(['--max-wait', '2', '--drain', '0',
	    '--kill-grace', '1']);
	client = new Client({ socket: daemon.socket });
});

after(async () => {
	client?.close();
	await daemon?.stop();
});

/* A schedule name no other test uses. */
const newName = () => `t-${randomUUID().slice(0, 12)}`;

/* The error a promise rejects with (null when it resolves). */
const failure = (p) => p.then(() => null, (e) => e);

describe('schedules', () => {
	test('create paused, get, list, trigger, result, delete', async () => {
		const name = newName();
		const s = await client.createSchedule(name, {
			every: 1, paused: true,
			task: { argv: ['echo', 'scheduled'], labels: { t: 'sched' } },
		});
		assert.equal(s.name, name);
		assert.equal(s.every, 1);
		assert.equal(s.paused, true);
		assert.equal(s.next_at, null);
		assert.equal(s.last, null);
		assert.deepEqual(s.task.argv, ['echo', 'scheduled']);
		assert.equal(s.task.kind, 'exec');
		assert.equal((await client.getSchedule(name)).name, name);
		assert.ok((await client.listSchedules()).some((x) =>
		    x.name === name));
		assert.ok((await client.listSchedules({ paused: true })).some((x) =>
		    x.name === name));

		const r = await client.triggerSchedule(name);
		assert.equal(r.outcome, 'fired');
		assert.equal(typeof r.task, 'number');
		assert.equal(typeof r.scheduled_at, 'string');
		const t = client.task(r.task);
		assert.equal((await t.result()).stdout, 'scheduled\n');
		const info = await t.get();
		assert.equal(info.labels.schedule, name);
		assert.equal(info.labels.t, 'sched');
		assert.ok(info.key.startsWith(`schedule:${name}:trigger:`));
		const last = (await client.getSchedule(name)).last;
		assert.equal(last.task, r.task);
		assert.equal(last.state, 'succeeded');

		assert.equal((await client.resumeSchedule(name)).paused, false);
		assert.equal((await client.pauseSchedule(name)).paused, true);
		const u = await client.updateSchedule(name, { every: 3600 });
		assert.equal(u.every, 3600);
		assert.equal(u.paused, true);

		assert.equal(await client.deleteSchedule(name), undefined);
		assert.ok(!(await client.listSchedules()).some((x) =>
		    x.name === name));
		assert.equal((await t.result()).stdout, 'scheduled\n');
	});

	test('ScheduleExists, NoSuchSchedule, InvalidParams', async () => {
		const name = newName();
		const spec = { every: 60, paused: true, task: { shell: 'true' } };
		await client.createSchedule(name, spec);
		const dup = await failure(client.createSchedule(name, spec));
		assert.ok(dup instanceof ScheduleExists, String(dup));
		assert.equal(dup.code, 12);
		assert.equal(dup.scheduleName, name);
		assert.match(dup.message, new RegExp(`schedule ${name} exists`));
		await client.deleteSchedule(name);
		for (const call of ['getSchedule', 'deleteSchedule', 'pauseSchedule',
		    'resumeSchedule', 'triggerSchedule']) {
			const err = await failure(client[call](name));
			assert.ok(err instanceof NoSuchSchedule, `${call}: ${err}`);
			assert.equal(err.scheduleName, name);
		}
		const cron = await failure(client.createSchedule(newName(),
		    { cron: '61 * * * *', task: { argv: ['true'] } }));
		assert.ok(cron instanceof InvalidParams, String(cron));
		assert.equal(cron.field, 'cron');
		const tz = await failure(client.createSchedule(newName(),
		    { cron: '0 * * * *', tz: 'Mars/Olympus_Mons',
		    task: { argv: ['true'] } }));
		assert.ok(tz instanceof InvalidParams, String(tz));
		assert.equal(tz.field, 'tz');
		await assert.rejects(client.createSchedule(newName(),
		    { every: 60, task: { argv: ['true'], key: 'k' } }),
		    InvalidParams);
		assert.throws(() => client.createSchedule(newName(), { every: 60 }),
		    TypeError);
	});
});
