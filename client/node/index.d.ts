/*
 * Type declarations of the futured Node.js client (hand-written; the
 * package is plain JavaScript). Shapes follow proto/PROTOCOL.md and
 * proto/openrpc.json; futured may add members to its objects, so the
 * object types are open where the protocol says clients keep what they
 * do not know.
 */

/* ---------------------------------------------------------------- objects */

/** Seconds, as JSON numbers (timeouts, delays, durations). */
export type Seconds = number;
/** RFC 3339 UTC with milliseconds: "2026-11-25T22:10:54.325Z". */
export type Timestamp = string;
export type TaskId = number;
export type Kind = 'exec' | 'sleep' | 'http' | 'future' | 'group';
/** What a task's unfinished children become when its own work ends. */
export type ChildPolicy = 'wait' | 'cancel' | 'abandon';
export type TaskState = 'pending' | 'running' | 'succeeded' | 'failed' |
    'cancelled';
export type ReturnWhen = 'ALL_COMPLETED' | 'FIRST_COMPLETED' |
    'FIRST_EXCEPTION';
export type Labels = Record<string, string>;

/** Fields every kind takes (task.submit's common fields). */
export interface CommonSpec {
  queue?: string | null;
  priority?: number | null;
  timeout?: Seconds | null;
  delay?: Seconds | null;
  not_before?: Timestamp | null;
  retries?: number | null;
  retry_backoff?: Seconds | null;
  key?: string | null;
  after?: TaskId[] | null;
  labels?: Labels | null;
  /**
   * The task (or group) the new one is a child of. undefined (the
   * default): the task this process runs in when futured started it
   * ($FUTURED_TASK_ID, see defaultParent()), else none; null: none.
   */
  parent?: Task | TaskId | null;
  /** Default wait: a parent stays running until its children ended. */
  child_policy?: ChildPolicy | null;
  /**
   * Concurrency keys, KEY -> N (1 to 8 keys, N 1..100000): at most N
   * running tasks carry KEY at once, whatever their queue.
   */
  concurrency?: Record<string, number> | null;
  /** A rate limit's name (setRateLimit): each start takes a token. */
  rate_limit?: string | null;
  /** With rate_limit: a bucket of it per key. */
  rate_key?: string | null;
}

/** kind "exec": argv or shell. The kind is guessed when left out. */
export interface ExecSpec extends CommonSpec {
  kind?: 'exec';
  argv?: string[] | null;
  shell?: string | null;
  env?: Record<string, string> | null;
  cwd?: string | null;
  stdin?: string | null;
  capture?: 'text' | 'json' | null;
  max_output?: number | null;
}

/** kind "sleep": `seconds`, then `result` (default null). */
export interface SleepSpec extends CommonSpec {
  kind?: 'sleep';
  seconds: Seconds;
  result?: unknown;
}

/** kind "http": a transfer from the daemon's own loop. */
export interface HttpSpec extends CommonSpec {
  kind?: 'http';
  url: string;
  method?: string | null;
  headers?: Record<string, string> | null;
  body?: string | null;
  max_body?: number | null;
  follow_redirects?: boolean | null;
  raise_for_status?: boolean | null;
}

/**
 * kind "future": no fields of its own. Nothing runs it; it waits until
 * setResult, setException or cancel (any client) or its timeout ends it.
 */
export interface FutureSpec extends CommonSpec {
  kind: 'future';
}

/**
 * kind "group": nothing runs it; its members are the tasks submitted with
 * parent set to it until it is closed; it ends once closed and every
 * member has, with GroupEntry[] (the first failure cancels the others and
 * fails it, unless return_exceptions).
 */
export interface GroupSpec extends CommonSpec {
  kind: 'group';
  return_exceptions?: boolean | null;
}

/** One member's outcome in a group's result, in id order. */
export interface GroupEntry {
  id: TaskId;
  state: 'succeeded' | 'failed' | 'cancelled';
  result?: unknown;
  exception?: TaskException;
}

export type TaskSpec = ExecSpec | SleepSpec | HttpSpec | FutureSpec |
    GroupSpec;

/** The result of an exec task with capture "text". */
export interface ExecResult {
  exit_code: number;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  duration: Seconds;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  body_encoding: 'utf-8' | 'base64';
  body_truncated: boolean;
  url: string;
  duration: Seconds;
}

/**
 * Why a task failed. `type` is one of ProcessError, SpawnError,
 * TimeoutError, HttpError, ConnectionError, DependencyFailed,
 * DaemonRestarted, ResultDecodeError, the type a setException gave, or
 * one added later; a task cancelled with a message has {type:
 * "CancelledError", message}.
 */
export interface TaskException {
  type: string;
  message: string;
  exit_code?: number;
  signal?: number;
  /** The last 4 KiB of stderr (ProcessError). */
  stderr_tail?: string;
  stdout?: string;
  stderr?: string;
  stdout_truncated?: boolean;
  stderr_truncated?: boolean;
  duration?: Seconds;
  timeout?: Seconds;
  curl_code?: number;
  status?: number;
  [member: string]: unknown;
}

export interface Attempt {
  attempt: number;
  outcome: 'succeeded' | 'failed' | 'cancelled';
  started_at: Timestamp;
  finished_at: Timestamp;
  exception?: TaskException;
}

/** The task object (task.get, task.submit, task.list). */
export interface TaskInfo {
  id: TaskId;
  kind: Kind;
  state: TaskState;
  queue: string;
  priority: number;
  key: string | null;
  spec: { kind: Kind; [field: string]: unknown };
  labels: Labels;
  attempt: number;
  max_retries: number;
  created_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** Only when succeeded. */
  result?: unknown;
  /** Only when failed. */
  exception?: TaskException;
  /** Only when failed: whether a client has been handed the exception. */
  retrieved?: boolean;
  attempts?: Attempt[];
  after?: TaskId[];
  not_before?: Timestamp;
  timeout?: Seconds;
  /** The task's parent, when it has one. */
  parent?: TaskId;
  /** Only when not "wait". */
  child_policy?: ChildPolicy;
  /** What it asked: its concurrency keys, rate limit and rate key. */
  limits?: TaskLimits;
  /** While a ready task is held back by a concurrency key or a token. */
  waiting_for?: WaitingFor;
  [member: string]: unknown;
}

export interface TaskLimits {
  concurrency?: Record<string, number>;
  rate_limit?: string;
  rate_key?: string;
}

export type WaitingFor =
  | { limit: 'concurrency'; key: string }
  | { limit: 'rate'; name: string; key: string | null };

export interface YieldDecodeError {
  type: 'YieldDecodeError';
  message: string;
  /** The line's first 256 bytes; absent for a line over 1 MiB. */
  line?: string;
}

/** One item a task yielded: its JSON value, or why its line was not JSON. */
export type StreamItem =
  | { seq: number; value: unknown; error?: undefined }
  | { seq: number; error: YieldDecodeError; value?: undefined };

export interface StreamResult {
  items: StreamItem[];
  next: number;
  done: boolean;
  overflow: boolean;
}

export interface OutputResult {
  data: string;
  next: number;
  eof: boolean;
}

export type OutputStreamName = 'stdout' | 'stderr';

/** A piece of a task's output; offset counts bytes of the kept output. */
export interface OutputChunk {
  stream: OutputStreamName;
  data: string;
  offset: number;
}

export interface WaitResult {
  done: TaskId[];
  pending: TaskId[];
}

/** task.set_result and task.set_exception: whether this call set it. */
export interface SetResult {
  set: boolean;
  /** How it ended when set is false; else its state now. */
  state: TaskState;
}

export interface AsCompletedResult {
  /** Finished tasks not handed back before, in the order they finished. */
  done: Array<{ id: TaskId; state: 'succeeded' | 'failed' | 'cancelled' }>;
  /** Send it back with the next call (the same ids). */
  cursor: string;
  /** Tasks not handed back yet: 0 when all were. */
  remaining: number;
}

export interface ListParams {
  state?: TaskState;
  queue?: string;
  label?: Labels;
  unretrieved?: boolean;
  /** Page size, 1 to 1000 (default 100). */
  limit?: number;
  cursor?: string | null;
  /** The children of this task; 0: the tasks without a parent. */
  parent?: TaskId;
}

export type ListFilter = Omit<ListParams, 'cursor' | 'parent'> & {
  parent?: Task | TaskId;
};

export interface ListResult {
  tasks: TaskInfo[];
  next: string | null;
}

export interface QueueInfo {
  name: string;
  concurrency: number;
  paused: boolean;
  running: number;
  waiting: number;
}

export interface QueueSettings {
  concurrency?: number;
  paused?: boolean;
}

/** A rate limit: starts tokens every per seconds, at most burst held. */
export interface RateLimit {
  name: string;
  starts: number;
  per: Seconds;
  burst: number;
}

export interface RateLimitSettings {
  starts: number;
  /** Default 1. */
  per?: Seconds;
  /** Default 1: starts evenly spaced. */
  burst?: number;
}

export interface RateLimitList {
  rate_limits: RateLimit[];
  /** Ready tasks held back now by a concurrency key or a rate limit. */
  waiting: number;
}

export type Overlap = 'skip' | 'buffer_one' | 'allow_all' | 'cancel_other';
export type Catchup = 'latest' | 'all';

/**
 * What a schedule's task may say: task.submit's params but those each
 * firing sets (key, delay, not_before, after, parent).
 */
export type ScheduleTaskSpec = DistributiveOmit<TaskSpec,
    'key' | 'delay' | 'not_before' | 'after' | 'parent'>;
type DistributiveOmit<T, K extends PropertyKey> =
    T extends unknown ? Omit<T, K> : never;

/** schedule.create's fields but name: cron (and tz) or every. */
export interface ScheduleSpec {
  /** Five fields, minute hour day-of-month month day-of-week, or @daily... */
  cron?: string | null;
  /** An IANA zone for cron (default "UTC"). */
  tz?: string | null;
  /** A fixed interval instead of cron. */
  every?: Seconds | null;
  start_at?: Timestamp | null;
  end_at?: Timestamp | null;
  /** Each firing's task waits a further 0 <= j < jitter seconds. */
  jitter?: Seconds | null;
  task: ScheduleTaskSpec;
  /** A firing while the previous firing's task is unfinished. */
  overlap?: Overlap | null;
  /** Which firings missed while futured was down run. */
  catchup?: Catchup | null;
  /** Default 60. */
  catchup_window?: Seconds | null;
  paused?: boolean | null;
}

/** schedule.update: any field of ScheduleSpec; null clears start_at, end_at. */
export type ScheduleChanges = Partial<ScheduleSpec>;

export interface ScheduleInfo {
  name: string;
  cron?: string;
  tz?: string;
  every?: Seconds;
  start_at?: Timestamp;
  end_at?: Timestamp;
  jitter: Seconds;
  task: Record<string, unknown>;
  overlap: Overlap;
  catchup: Catchup;
  catchup_window: Seconds;
  paused: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** null while paused or once past end_at. */
  next_at: Timestamp | null;
  /** The latest firing (null before the first) and its task's state now. */
  last: { scheduled_at: Timestamp; task: TaskId | null;
      state: TaskState | null; error?: string } | null;
  /** A firing waiting for the previous task (overlap buffer_one). */
  buffered: Timestamp | null;
  fired: number;
  skipped: number;
  missed: number;
  [key: string]: unknown;
}

export interface ScheduleTrigger {
  outcome: 'fired' | 'skipped' | 'buffered';
  /** The new task's id when fired, else null. */
  task: TaskId | null;
  scheduled_at: Timestamp;
}

export interface DaemonInfo {
  version: string;
  protocol_version: number;
  pid: number;
  uptime: Seconds;
  started_at: Timestamp;
  state_dir: string;
  database: string;
  listen: string[];
  counts: {
    pending: number;
    running: number;
    succeeded: number;
    failed: number;
    cancelled: number;
  };
  unretrieved: number;
  running_processes: number;
  waiters: number;
  refused_notifications: number;
  limits: {
    jobs: number;
    max_request: number;
    max_requests: number;
    max_output: number;
    max_wait: Seconds;
    kill_grace: Seconds;
    retention: Seconds;
    [limit: string]: unknown;
  };
  schema_version: number;
  synchronous: string;
  cluster: null | {
    node: string;
    lease: Seconds;
    nodes: Array<{
      name: string;
      host: string;
      pid: number;
      started_at: Timestamp;
      lease_left: Seconds;
    }>;
  };
  [member: string]: unknown;
}

/** Params and results of futured's methods, for typed call()s. */
export interface Methods {
  'task.submit': { params: TaskSpec & { kind: Kind }; result: TaskInfo };
  'task.get': { params: { id: TaskId }; result: TaskInfo };
  'task.result': {
    params: { id: TaskId; timeout?: Seconds | null };
    result: unknown;
  };
  'task.exception': {
    params: { id: TaskId; timeout?: Seconds | null };
    result: TaskException | null;
  };
  'task.wait': {
    params: { ids: TaskId[]; return_when?: ReturnWhen;
        timeout?: Seconds | null };
    result: WaitResult;
  };
  'task.cancel': {
    params: { id: TaskId; message?: string | null };
    result: { cancelled: boolean };
  };
  'task.set_result': { params: { id: TaskId; result?: unknown };
      result: SetResult };
  'task.set_exception': {
    params: { id: TaskId; type?: string | null; message: string;
        data?: Record<string, unknown> | null };
    result: SetResult;
  };
  'task.as_completed': {
    params: ({ ids: TaskId[] } | { group: TaskId }) & {
        cursor?: string | null; timeout?: Seconds | null };
    result: AsCompletedResult;
  };
  'task.close': { params: { id: TaskId };
      result: { closed: boolean; state: TaskState } };
  'task.list': { params: ListParams; result: ListResult };
  'task.stream': {
    params: { id: TaskId; from?: number; timeout?: Seconds | null };
    result: StreamResult;
  };
  'task.output': {
    params: { id: TaskId; stream?: OutputStreamName; offset?: number;
        limit?: number; timeout?: Seconds | null };
    result: OutputResult;
  };
  'queue.list': { params: Record<string, never>;
      result: { queues: QueueInfo[] } };
  'queue.set': { params: QueueSettings & { name: string }; result: QueueInfo };
  'rate.set': { params: RateLimitSettings & { name: string };
      result: RateLimit };
  'rate.list': { params: Record<string, never>; result: RateLimitList };
  'rate.delete': { params: { name: string };
      result: { name: string; deleted: true } };
  'schedule.create': { params: ScheduleSpec & { name: string };
      result: ScheduleInfo };
  'schedule.get': { params: { name: string }; result: ScheduleInfo };
  'schedule.list': { params: { paused?: boolean };
      result: { schedules: ScheduleInfo[] } };
  'schedule.update': { params: ScheduleChanges & { name: string };
      result: ScheduleInfo };
  'schedule.delete': { params: { name: string };
      result: { name: string; deleted: true } };
  'schedule.pause': { params: { name: string }; result: ScheduleInfo };
  'schedule.resume': { params: { name: string }; result: ScheduleInfo };
  'schedule.trigger': { params: { name: string; overlap?: Overlap };
      result: ScheduleTrigger };
  'daemon.info': { params: Record<string, never>; result: DaemonInfo };
  'rpc.discover': { params: Record<string, never>;
      result: Record<string, unknown> };
}

export type MethodName = keyof Methods;

/* ----------------------------------------------------------------- client */

export interface ClientOptions {
  /**
   * The Unix socket. Not with `url`. With neither: $FUTURED_SOCKET, else
   * $FUTURED_URL (see defaultUrl()) with the token below, else the
   * daemon's default socket, <state-dir>/futured.sock.
   */
  socket?: string;
  /** TCP instead: "http://127.0.0.1:PORT" (posts to /rpc). */
  url?: string;
  /**
   * The bearer token for `url` or $FUTURED_URL (default: the first line
   * of `tokenFile`, else $FUTURED_TOKEN, else the default state dir's
   * token file when readable).
   */
  token?: string;
  /** A file whose first line is the token, for `url` or $FUTURED_URL. */
  tokenFile?: string;
  /**
   * Seconds to wait for an answer beyond the wait a long-poll asked for
   * (default 60).
   */
  timeout?: Seconds;
}

export interface CallOptions {
  /**
   * Seconds the exchange may go without an answer, replacing the client's
   * timeout plus any long-poll wait the params ask for.
   */
  timeout?: Seconds;
  signal?: AbortSignal;
}

export interface SignalOption {
  signal?: AbortSignal;
}

export interface WaitOptions extends SignalOption {
  /** Seconds; undefined or null: as long as it takes. */
  timeout?: Seconds | null;
}

export interface GroupOptions extends WaitOptions {
  /** A group (any task) whose members (children) to yield. */
  group: Task | TaskId;
}

export interface ClientWaitOptions extends WaitOptions {
  /** Default ALL_COMPLETED. */
  returnWhen?: ReturnWhen;
}

export interface CancelOptions extends SignalOption {
  /**
   * Kept with the task (at most 1,024 bytes; asyncio's cancel(msg)): its
   * exception is then {type: "CancelledError", message}.
   */
  message?: string;
}

export interface SetExceptionOptions extends SignalOption {
  /**
   * The exception's type: 1-64 of [A-Za-z0-9._]. Default "Exception", or
   * the name of the Error given as the message.
   */
  type?: string;
  /** More members of the exception (type and message win). */
  data?: Record<string, unknown>;
}

/** A call of a batch: [method, params] or {method, params, notify}. */
export type BatchCall =
  | [method: string, params?: object]
  | { method: string; params?: object; notify?: boolean };

export type BatchEntry<T = any> =
  | { ok: true; result: T; error?: undefined; notification?: undefined }
  | { ok: true; result: undefined; notification: true; error?: undefined }
  | { ok: false; error: FuturedError; result?: undefined;
      notification?: undefined };

export type SubmitEntry =
  | { ok: true; task: Task; error?: undefined }
  | { ok: false; error: FuturedError; task?: undefined };

export class Client {
  constructor(options?: ClientOptions);

  /** The socket path, or null with `url`. */
  readonly socket: string | null;
  /** The URL, or null with `socket`. */
  readonly url: string | null;
  /** Seconds allowed for an answer beyond a long-poll's own wait. */
  readonly timeout: Seconds;
  /** "unix:PATH" or the URL posted to. */
  readonly where: string;

  /** A raw call: the result, or a rejection with the FuturedError answered. */
  call<M extends MethodName>(method: M, params?: Methods[M]['params'],
      options?: CallOptions): Promise<Methods[M]['result']>;
  call<T = unknown>(method: string, params?: object,
      options?: CallOptions): Promise<T>;

  /** A JSON-RPC notification: nothing is answered, errors included. */
  notify(method: string, params?: object, options?: SignalOption):
      Promise<void>;

  /** Several calls in one request; one entry per call, in order. */
  batch(calls: Iterable<BatchCall>, options?: CallOptions):
      Promise<BatchEntry[]>;

  /** task.submit; the kind is guessed from argv/shell, url or seconds. */
  submit(spec: TaskSpec, options?: SignalOption): Promise<Task>;
  /** Many task.submit in one batch; one entry per spec, in order. */
  submitMany(specs: Iterable<TaskSpec>, options?: CallOptions):
      Promise<SubmitEntry[]>;

  /**
   * A task of kind future (loop.create_future(), made durable), with the
   * common fields given.
   */
  createFuture(common?: CommonSpec, options?: SignalOption): Promise<Task>;
  /**
   * A task of kind group (asyncio's TaskGroup, or with return_exceptions
   * gather, made durable); its members are submitted with parent set to
   * it, closeGroup closes it.
   */
  createGroup(spec?: Omit<GroupSpec, 'kind'> & { kind?: 'group' },
      options?: SignalOption): Promise<Task>;
  /**
   * task.close: true when closed now; false when it was closed or had
   * finished before. (close() closes the client's connections.)
   */
  closeGroup(task: Task | TaskId, options?: SignalOption): Promise<boolean>;
  /**
   * asyncio.TaskGroup over a durable group: body(g) submits members
   * (g.submit), then the group is closed and its result awaited; rejects
   * with GroupFailed when a member failed (unless return_exceptions).
   * When body throws, the group is cancelled and the error goes on.
   */
  taskGroup(body: (group: TaskGroup) => Promise<unknown> | unknown,
      spec?: Omit<GroupSpec, 'kind'>, options?: SignalOption):
      Promise<GroupEntry[]>;

  /** A handle on an existing task (nothing is asked of futured). */
  task(id: TaskId): Task;
  get(id: TaskId, options?: SignalOption): Promise<TaskInfo>;
  /** true when cancelled now; false when it had already finished. */
  cancel(task: Task | TaskId, options?: CancelOptions): Promise<boolean>;
  /**
   * Completes a future with a result (Future.set_result): its state,
   * "succeeded". Rejects with InvalidStateError when it had already
   * finished (nothing changed), InvalidParams when of another kind.
   */
  setResult(task: Task | TaskId, value: unknown, options?: SignalOption):
      Promise<TaskState>;
  /**
   * Completes a future with a failure (Future.set_exception): "failed",
   * or "pending"/"running" when it has retries left and waits again.
   * message may be an Error (its message, and its name as the type).
   */
  setException(task: Task | TaskId, message: string | Error,
      options?: SetExceptionOptions): Promise<TaskState>;

  /** asyncio.wait over Task objects or ids, in the order given. */
  wait(tasks: Iterable<Task | TaskId>, options?: ClientWaitOptions):
      Promise<{ done: Task[]; pending: Task[] }>;
  /**
   * asyncio.as_completed over Task objects or ids (at most 10,000): the
   * Tasks as they finish, in that order (those finished already first,
   * in the order given), each once and knowing its finalState. Throws
   * TaskNotDone when `timeout` seconds pass first.
   */
  asCompleted(tasks: Iterable<Task | TaskId>, options?: WaitOptions):
      AsyncGenerator<Task, void, undefined>;
  /**
   * A group's members (any task's children) as they finish, as Tasks,
   * members joining meanwhile too, until the group has ended.
   */
  asCompleted(options: GroupOptions):
      AsyncGenerator<Task, void, undefined>;

  /** Every matching task, newest first, fetched page by page. */
  list(filter?: ListFilter, options?: SignalOption):
      AsyncGenerator<TaskInfo, void, undefined>;
  /** One page of task.list. */
  listPage(params?: ListParams, options?: SignalOption): Promise<ListResult>;

  listQueues(options?: SignalOption): Promise<QueueInfo[]>;
  setQueue(name: string, settings?: QueueSettings,
      options?: SignalOption): Promise<QueueInfo>;

  /**
   * rate.set: makes (or changes, at once) a rate limit; InvalidParams for
   * a value out of range.
   */
  setRateLimit(name: string, settings: RateLimitSettings,
      options?: SignalOption): Promise<RateLimit>;
  /** rate.list: the rate limits and how many tasks wait for a limit. */
  listRateLimits(options?: SignalOption): Promise<RateLimitList>;
  /**
   * rate.delete: the tasks waiting for its tokens start; InvalidParams
   * for an unknown name.
   */
  deleteRateLimit(name: string, options?: SignalOption): Promise<void>;

  /** schedule.create; ScheduleExists when the name is taken. */
  createSchedule(name: string, schedule: ScheduleSpec,
      options?: SignalOption): Promise<ScheduleInfo>;
  /** schedule.get; NoSuchSchedule when there is none. */
  getSchedule(name: string, options?: SignalOption): Promise<ScheduleInfo>;
  /** schedule.list, by name. */
  listSchedules(filter?: { paused?: boolean },
      options?: SignalOption): Promise<ScheduleInfo[]>;
  updateSchedule(name: string, changes: ScheduleChanges,
      options?: SignalOption): Promise<ScheduleInfo>;
  /** The tasks it made stay. */
  deleteSchedule(name: string, options?: SignalOption): Promise<void>;
  pauseSchedule(name: string, options?: SignalOption): Promise<ScheduleInfo>;
  resumeSchedule(name: string, options?: SignalOption): Promise<ScheduleInfo>;
  /** Fires it now, paused or not. */
  triggerSchedule(name: string,
      options?: SignalOption & { overlap?: Overlap }): Promise<ScheduleTrigger>;

  info(options?: SignalOption): Promise<DaemonInfo>;
  /** The OpenRPC document of every method. */
  discover(options?: SignalOption): Promise<Record<string, unknown>>;

  /** Closes kept-alive connections; calls in flight are cut off. */
  close(): void;
}

export interface OutputStreamOptions extends SignalOption {
  /** Default 'stdout'; 'both' interleaves the two as they come. */
  stream?: OutputStreamName | 'both';
  /** Byte offset to start from (default 0). */
  offset?: number;
  /** Bytes per call, 4 to 1 MiB (default 64 KiB). */
  limit?: number;
}

export interface ItemStream extends AsyncGenerator<StreamItem, void, undefined> {
  /** Turns true once futured reports the stream dropped items. */
  overflow: boolean;
}

export class Task {
  constructor(client: Client, id: TaskId, info?: TaskInfo | null);

  readonly client: Client;
  readonly id: TaskId;
  /** The task object of the submit or the last get(): a snapshot. */
  info: TaskInfo | null;
  /**
   * Its final state once an answer told it (get, asCompleted, cancel,
   * setResult, setException), else null; a final state never changes.
   */
  finalState: 'succeeded' | 'failed' | 'cancelled' | null;

  get(options?: SignalOption): Promise<TaskInfo>;
  /**
   * The result; rejects with TaskFailed (carrying the exception),
   * TaskCancelled, or TaskNotDone once `timeout` seconds pass.
   */
  result<T = any>(options?: WaitOptions): Promise<T>;
  /** The exception, or null if the task succeeded; marks it retrieved. */
  exception(options?: WaitOptions): Promise<TaskException | null>;
  /** Whether the task has finished, in whatever state. */
  done(options?: SignalOption): Promise<boolean>;
  cancelled(options?: SignalOption): Promise<boolean>;
  /** true when cancelled now; false when it had already finished. */
  cancel(options?: CancelOptions): Promise<boolean>;
  /** Completes this future with a result: see Client.setResult. */
  setResult(value: unknown, options?: SignalOption): Promise<TaskState>;
  /** Completes this future with a failure: see Client.setException. */
  setException(message: string | Error, options?: SetExceptionOptions):
      Promise<TaskState>;
  /** Closes this group: see Client.closeGroup. */
  close(options?: SignalOption): Promise<boolean>;
  /** The tasks whose parent this one is (a group's members), newest first. */
  children(options?: SignalOption): AsyncGenerator<Task, void, undefined>;
  /** Waits for the end: true once finished, false on timeout. */
  wait(options?: WaitOptions): Promise<boolean>;
  /** Output chunks while the task runs, until it ends and all is read. */
  outputStream(options?: OutputStreamOptions):
      AsyncGenerator<OutputChunk, void, undefined>;
  /** All of one stream's output, once the task has finished. */
  output(options?: { stream?: OutputStreamName } & SignalOption):
      Promise<string>;
  /** The items the task yields on fd 3, as they come. */
  stream(options?: { from?: number } & SignalOption): ItemStream;
  toJSON(): { id: TaskId };
  toString(): string;
}

/** The group of Client.taskGroup: members are made with parent the group. */
export class TaskGroup extends Task {
  submit(spec: TaskSpec, options?: SignalOption): Promise<Task>;
  createFuture(common?: CommonSpec, options?: SignalOption): Promise<Task>;
  createGroup(spec?: Omit<GroupSpec, 'kind'>, options?: SignalOption):
      Promise<Task>;
  asCompleted(options?: WaitOptions): AsyncGenerator<Task, void, undefined>;
}

/* ----------------------------------------------------------------- errors */

/** A JSON-RPC error object as futured sends it. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** An error futured answered; subclasses by code. */
export class FuturedError extends Error {
  constructor(error: RpcErrorObject, options?: { cause?: unknown });
  /** The JSON-RPC code (1..8 futured's own, -32xxx the standard ones). */
  readonly code: number;
  /** The JSON-RPC message, e.g. "NoSuchTask". */
  readonly rpcMessage: string;
  readonly data: any;
  /** data.id when the error names a task, else null. */
  readonly taskId: TaskId | null;
}

/** 1: the task failed; `exception` says why. */
export class TaskFailed extends FuturedError {
  readonly data: { id: TaskId; exception: TaskException };
  readonly exception: TaskException;
}
/**
 * 1, of a group: a member failed, which cancelled the others; its
 * exception is {type: "ExceptionGroup", message, exceptions: [{id,
 * exception}]}.
 */
export class GroupFailed extends TaskFailed {
  /** The members' failures, in id order (GroupFailed for a group). */
  readonly exceptions: TaskFailed[];
}
/** 2; data.message: the message of a cancel that gave one. */
export class TaskCancelled extends FuturedError {
  readonly data: { id: TaskId; message?: string };
  /** The cancel's message, or null. */
  readonly cancelMessage: string | null;
}
/**
 * 3: unfinished when the timeout passed (asCompleted's own names no task:
 * no data.id).
 */
export class TaskNotDone extends FuturedError {
  readonly data: { id?: TaskId; state: 'pending' | 'running' | null };
  readonly state: 'pending' | 'running' | null;
}
/** 4 */
export class NoSuchTask extends FuturedError {
  readonly data: { id: TaskId; field?: 'after' | 'parent' };
}
/** 5: the key belongs to task data.id, submitted with another spec. */
export class KeyConflict extends FuturedError {
  readonly data: { key: string; id: TaskId };
  readonly key: string | null;
}
/** 6 */
export class ShuttingDown extends FuturedError {}
/** 7: nothing was acknowledged. */
export class StoreError extends FuturedError {
  readonly data: { reason: string; id?: TaskId };
}
/** 8: data {limit: "queues" | "batch", max, value}. */
export class LimitExceeded extends FuturedError {
  readonly data: { limit: string; max: number; value: number };
  readonly limit: string | null;
}
/** 12: createSchedule of a name taken. */
export class ScheduleExists extends FuturedError {
  readonly data: { name: string };
  readonly scheduleName: string | null;
}
/** 13 */
export class NoSuchSchedule extends FuturedError {
  readonly data: { name: string };
  readonly scheduleName: string | null;
}
/** -32700 */
export class ParseError extends FuturedError {}
/** -32600 */
export class InvalidRequest extends FuturedError {}
/** -32601 */
export class MethodNotFound extends FuturedError {
  readonly data: { method: string };
}
/** -32602: `field` is the path of the refused parameter ("argv[2]"). */
export class InvalidParams extends FuturedError {
  readonly data: { field: string; reason: string };
  readonly field: string | null;
  readonly reason: string | null;
}
/** -32603 */
export class InternalError extends FuturedError {}

/** The FuturedError subclass for a JSON-RPC error object. */
export function errorFromRpc(error: RpcErrorObject): FuturedError;

/** No JSON-RPC answer: no daemon, an HTTP refusal, no answer in time. */
export class TransportError extends Error {
  constructor(message: string, options?: {
    status?: number; reason?: string; retryAfter?: number;
    timedOut?: boolean; cause?: unknown;
  });
  /** The HTTP status of a refusal (401, 413, 503...), else null. */
  readonly status: number | null;
  /** futured's explanation of a refusal, else null. */
  readonly reason: string | null;
  /** Seconds, from Retry-After (503), else null. */
  readonly retryAfter: number | null;
  /** True when no answer came within the client's timeout. */
  readonly timedOut: boolean;
}

/** HTTP 401: the TCP listener wants the right bearer token. */
export class AuthenticationError extends TransportError {}

/**
 * setResult or setException of a task that had already finished; nothing
 * was changed (asyncio's InvalidStateError). Not an error futured answers.
 */
export class InvalidStateError extends Error {
  constructor(taskId: TaskId, state: TaskState);
  readonly taskId: TaskId;
  /** How it had ended: succeeded, failed or cancelled. */
  readonly state: TaskState;
}

/* ------------------------------------------------------------------ paths */

/** The daemon's default state dir, as futured itself computes it. */
export function defaultStateDir(): string;
/** $FUTURED_SOCKET, else <default state dir>/futured.sock. */
export function defaultSocketPath(): string;
/**
 * $FUTURED_URL when $FUTURED_SOCKET is unset, else null: the URL a Client
 * given neither `socket` nor `url` talks to.
 */
export function defaultUrl(): string | null;
/**
 * $FUTURED_TASK_ID as a number (the task this process runs in, when
 * futured started it), else null: submit's default parent.
 */
export function defaultParent(): TaskId | null;
