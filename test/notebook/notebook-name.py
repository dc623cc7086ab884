#!/usr/bin/python3
"""Starts classic Jupyter Notebook (6.x, Debian's jupyter-notebook) on the repository, opens a
notebook session with the marl-automl kernel through the server's REST API (what the browser does
when a notebook is opened), then asks that kernel (jupyter_client on its connection file) for the
notebook name it resolved. Prints one JSON object. Run by test/notebook/kernel-protocol.test.ts.

    notebook-name.py ROOT TMPDIR NOTEBOOK_PATH
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from jupyter_client import BlockingKernelClient

ROOT, TMP, NB = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = 'marl-automl-test'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def api(method, path, body=None):
    req = urllib.request.Request(
        f'http://127.0.0.1:{port}/api/{path}',
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={'Authorization': f'token {TOKEN}', 'Content-Type': 'application/json'},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
        return json.loads(text) if text else None


port = free_port()
runtime = os.path.join(TMP, 'runtime')
env = dict(os.environ)
env.update({
    'JUPYTER_PATH': os.path.join(ROOT, 'jupyter'),
    'JUPYTER_RUNTIME_DIR': runtime,
    'JUPYTER_CONFIG_DIR': os.path.join(TMP, 'config'),
})
env.pop('MARL_AUTOML_NOTEBOOK', None)
env.pop('JPY_SESSION_NAME', None)
server = subprocess.Popen(
    ['jupyter-notebook', '--no-browser', '--allow-root', f'--port={port}', '--ip=127.0.0.1',
     f'--NotebookApp.token={TOKEN}', f'--notebook-dir={ROOT}'],
    env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(TMP, 'server.log'), 'w'),
)
out = {}
try:
    for _ in range(100):
        try:
            api('GET', 'status')
            break
        except Exception:
            time.sleep(0.2)
    session = api('POST', 'sessions', {'path': NB, 'type': 'notebook', 'name': '', 'kernel': {'name': 'marl-automl'}})
    kernel_id = session['kernel']['id']
    kc = BlockingKernelClient(connection_file=os.path.join(runtime, f'kernel-{kernel_id}.json'))
    kc.load_connection_file()
    kc.start_channels(hb=False)
    # (wait_for_ready would give up early: without a kernel manager it reads a not-yet-beating heartbeat as death)
    ready_by = time.time() + 90
    while True:
        msg_id = kc.kernel_info()
        try:
            reply = kc.get_shell_msg(timeout=5)
            if reply['parent_header'].get('msg_id') == msg_id:
                break
        except Exception:
            if time.time() > ready_by:
                raise
    t0 = time.time()
    name = None
    while time.time() - t0 < 30:
        texts = []
        kc.execute_interactive(
            'console.log(`name=${process.env.MARL_AUTOML_NOTEBOOK ?? ""} jpy=${process.env.JPY_SESSION_NAME ?? ""}`);', timeout=60,
            output_hook=lambda m: texts.append(m['content'].get('text', '')) if m['msg_type'] == 'stream' else None,
        )
        name = ''.join(texts).strip()
        if not name.startswith('name= '):
            break
        time.sleep(0.5)
    out = {'session_path': session.get('path'), 'kernel_says': name, 'wait_s': time.time() - t0}
    kc.stop_channels()
    api('DELETE', f"sessions/{session['id']}")
finally:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
print(json.dumps(out))
