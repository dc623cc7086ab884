#!/usr/bin/python3
"""Drives the marl-automl kernel through the Jupyter protocol (jupyter_client), as a front end does,
and prints one JSON object with what it observed. Run by test/notebook/kernel-protocol.test.ts.

    kernel-protocol.py ROOT TMPDIR PROBE

ROOT: repository root (the kernel's working directory); TMPDIR: scratch folder (the experiment
store goes there); PROBE: a throw-away source file under ROOT/src that the script edits between
cells (the edit warning). Steps, in one kernel:
  1. a worker-pool run of CPU-bound jobs is interrupted (KernelManager.interrupt_kernel: SIGINT, what
     Kernel > Interrupt sends) once the first result is in the store; the kernel's CPU time and the
     store's rows are then sampled for a few seconds;
  2. the same executor runs again (the finished job comes from the store);
  3. a library error, a TypeScript error: execute replies and error outputs;
  4. PROBE is edited: the next cell's output must say so.
"""
import json
import os
import sqlite3
import sys
import time

from jupyter_client import KernelManager

ROOT, TMP, PROBE = sys.argv[1], sys.argv[2], sys.argv[3]
STORE = os.path.join(TMP, 'store.sqlite')
TICK = os.sysconf('SC_CLK_TCK')
PROBE_MODULE = './' + os.path.relpath(PROBE, ROOT)[:-3]

out = {}


def cpu_seconds(pid):
    """User + system CPU time of the process (all its threads: the worker threads included)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def thread_cpu(pid):
    """CPU seconds per thread id of the process."""
    out = {}
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            out[int(tid)] = (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            pass
    return out


def done_rows():
    if not os.path.exists(STORE):
        return 0
    con = sqlite3.connect(f'file:{STORE}?mode=ro', uri=True, timeout=5)
    try:
        return con.execute("SELECT count(*) FROM runs WHERE experiment = 'kp' AND status = 'done'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def run_cell(kc, code, timeout=120, on_poll=None):
    """Executes `code`; returns (reply content, iopub messages of this request). `on_poll` runs every
    poll while the cell is busy (it may interrupt the kernel)."""
    msg_id = kc.execute(code)
    msgs = []
    idle = False
    deadline = time.time() + timeout
    while not idle:
        if time.time() > deadline:
            raise TimeoutError(f'cell did not finish in {timeout}s: {code[:60]}')
        try:
            m = kc.get_iopub_msg(timeout=0.1)
        except Exception:
            m = None
        if m is not None and m['parent_header'].get('msg_id') == msg_id:
            msgs.append({'type': m['msg_type'], 'content': m['content']})
            if m['msg_type'] == 'status' and m['content']['execution_state'] == 'idle':
                idle = True
        if on_poll is not None and not idle:
            on_poll()
    while True:  # skip replies to earlier requests (e.g. kernel_info from wait_for_ready)
        reply = kc.get_shell_msg(timeout=30)
        if reply['parent_header'].get('msg_id') == msg_id:
            break
    return reply['content'], msgs


def text_of(msgs):
    return ''.join(m['content'].get('text', '') for m in msgs if m['type'] == 'stream')


def errors_of(msgs):
    return [m['content'] for m in msgs if m['type'] == 'error']


env = dict(os.environ)
env.update({
    'JUPYTER_PATH': os.path.join(ROOT, 'jupyter'),
    'MARL_AUTOML_STORE': STORE,
    'MARL_AUTOML_PRESET': 'smoke',
    'MARL_AUTOML_RESULTS_DIR': os.path.join(TMP, 'results'),
})
os.environ['JUPYTER_PATH'] = env['JUPYTER_PATH']  # where KernelManager looks the kernelspec up
km = KernelManager(kernel_name='marl-automl')
km.start_kernel(cwd=ROOT, env=env)
kc = km.client()
kc.start_channels()
try:
    kc.wait_for_ready(timeout=90)
    pid = km.provisioner.pid if getattr(km, 'provisioner', None) else km.kernel.pid
    t0 = time.time()
    setup, msgs = run_cell(kc, f"""
import {{ initBackend }} from './src/backend';
import {{ ExperimentStore, WorkerPoolExecutor, runExperiment }} from './src/runtime';
import {{ interruptible }} from './src/notebook';
import {{ tinyMlpKind }} from './test/runtime/fixtures/jobs';
import {{ probeValue }} from '{PROBE_MODULE}';
await initBackend();
const store = ExperimentStore.open();
const executor = interruptible(new WorkerPoolExecutor({{ workers: 2 }}));
// Job 0 is quick; the others train for many seconds each (CPU-bound).
const jobs = Array.from({{ length: 6 }}, (_, i) =>
  tinyMlpKind.job(`kp/${{i}}`, {{ inputs: 32, hidden: 64, samples: 256, steps: i === 0 ? 5 : 200000, lr: 0.01 }}, i));
console.log(`ready ${{probeValue}}`);
""", timeout=120)
    out['setup'] = {'status': setup['status'], 'text': text_of(msgs), 'seconds': time.time() - t0}

    state = {'interrupted_at': None, 'rows_at_interrupt': None, 'cpu_before': None, 'busy_threads': []}

    def interrupt_when_first_result():
        if state['interrupted_at'] is None and done_rows() >= 1:
            time.sleep(1.0)  # let the long jobs get going on both workers
            c0, w0, t0 = cpu_seconds(pid), time.time(), thread_cpu(pid)
            time.sleep(1.5)
            t1 = thread_cpu(pid)
            state['cpu_before'] = (cpu_seconds(pid) - c0) / (time.time() - w0)
            # The threads busy training: the two busiest besides the main thread (the pool's workers).
            busy = sorted((t1[t] - t0.get(t, 0.0), t) for t in t1 if t != pid)
            state['busy_threads'] = [t for d, t in busy[-2:] if d > 0]
            state['threads_at_interrupt'] = set(t1)
            state['rows_at_interrupt'] = done_rows()
            state['interrupted_at'] = time.time()
            km.interrupt_kernel()

    time.sleep(0.5)
    reply, msgs = run_cell(kc, """
const res = await runExperiment({ name: 'kp', jobs: jobs, executor: executor, store: store });
console.log(`finished all ${res.computed}`);
""", timeout=120, on_poll=interrupt_when_first_result)
    cell_end = time.time()
    # The worker threads that were training must go (terminated by the cancel); poll up to 20 s.
    gone_after = None
    while time.time() - state['interrupted_at'] < 20:
        if not any(os.path.exists(f'/proc/{pid}/task/{t}') for t in state['busy_threads']):
            gone_after = time.time() - state['interrupted_at']
            break
        time.sleep(0.05)
    # After the interrupt: CPU of the kernel process (workers included) and store rows over 3 s.
    c0, w0, th0 = cpu_seconds(pid), time.time(), thread_cpu(pid)
    time.sleep(3.0)
    th1 = thread_cpu(pid)
    cpu_after = (cpu_seconds(pid) - c0) / (time.time() - w0)
    # CPU of the threads that existed at the interrupt (new pool workers warming up excluded).
    old = state['threads_at_interrupt']
    cpu_old_after = sum(th1[t] - th0[t] for t in th1 if t in th0 and t in old) / (time.time() - w0)
    out['interrupt'] = {
        'status': reply['status'],
        'ename': reply.get('ename'),
        'evalue': reply.get('evalue'),
        'text': text_of(msgs),
        'errors': errors_of(msgs),
        'cell_end_after_interrupt_s': cell_end - state['interrupted_at'] if state['interrupted_at'] else None,
        'cpu_cores_before': state['cpu_before'],
        'cpu_cores_after': cpu_after,
        'cpu_cores_after_old_threads': cpu_old_after,
        'busy_threads': state['busy_threads'],
        'busy_threads_gone_after_s': gone_after,
        'rows_at_interrupt': state['rows_at_interrupt'],
        'rows_after': done_rows(),
    }

    # Re-running resumes: the finished job comes from the store, a new quick one runs on the same executor.
    reply, msgs = run_cell(kc, """
const quick = tinyMlpKind.job('kp/quick', { inputs: 8, hidden: 8, samples: 32, steps: 5, lr: 0.1 }, 9);
const again = await runExperiment({ name: 'kp', jobs: [jobs[0], quick], executor: executor, store: store });
console.log(`resumed: cached ${again.cached}, computed ${again.computed}`);
""", timeout=120)
    out['after'] = {'status': reply['status'], 'text': text_of(msgs)}

    reply, msgs = run_cell(kc, "import { budget } from './src/notebook';\nbudget({ smoke: 1, quick: 2 } as any);")
    out['library_error'] = {k: reply.get(k) for k in ('status', 'ename', 'evalue', 'traceback')}
    out['library_error']['outputs'] = errors_of(msgs)
    out['library_error']['stderr'] = text_of(msgs)
    time.sleep(0.5)  # tslab aborts requests that arrive within 200 ms of a failed cell (as ipykernel does)

    reply, msgs = run_cell(kc, "const notANumber: number = 'text';")
    out['type_error'] = {k: reply.get(k) for k in ('status', 'ename', 'evalue', 'traceback')}
    time.sleep(0.5)

    with open(PROBE, 'a') as f:
        f.write('export const edited = true;\n')
    reply, msgs = run_cell(kc, 'console.log(1 + 1);')
    out['edit'] = {'status': reply['status'], 'text': text_of(msgs)}
    reply, msgs = run_cell(kc, 'console.log(2 + 2);')
    out['edit_again'] = {'status': reply['status'], 'text': text_of(msgs)}
    run_cell(kc, 'await executor.close(); store.close();', timeout=60)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps(out))
