// Starts the real yoom binary on a free port for a test and stops it.
//
//   const srv = await startYoom({ args: ['--conformance'] });
//   ... srv.port, srv.url, srv.proc, srv.stderr() ...
//   await srv.stop();            // SIGTERM, waits for exit, returns the exit code
//
// Every wait here is bounded, so a yoom that hangs fails its test with its
// stderr instead of holding the suite until ctest's 600 s limit: start-up
// (timeoutMs, 30 s) and stop (stopTimeoutMs, 60 s: well over the default 10 s
// shutdown deadline; then SIGKILL and an error).
//
// The binary comes from $YOOM_BIN (set by ctest), else build-debug/yoom, else build/yoom.
// yoom prints "listening on http://HOST:PORT/" on stderr once it accepts connections
// ("https://" with --tls-*; srv.url then starts with https: too).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = process.env.YOOM_ROOT ||
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function yoomBin() {
  if (process.env.YOOM_BIN) return process.env.YOOM_BIN;
  for (const p of ['build-debug/yoom', 'build/yoom']) {
    const full = path.join(ROOT, p);
    if (existsSync(full)) return full;
  }
  throw new Error('yoom binary not found: build it first (make debug)');
}

export async function startYoom({ args = [], env = {}, port = 0, dataDir, webRoot, timeoutMs = 30000, stopTimeoutMs = 60000 } = {}) {
  const dir = dataDir || mkdtempSync(path.join(tmpdir(), 'yoom-test-'));
  const fullArgs = ['--host', '127.0.0.1', '--port', String(port), '--data-dir', dir,
    '--web-root', webRoot || path.join(ROOT, 'web'),
    // Parallel test servers would all want UDP 3478; a test that needs STUN passes its own port.
    '--stun-port', '0', ...args];
  const proc = spawn(yoomBin(), fullArgs, {
    cwd: ROOT,
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? 15 : 0))));
  let scheme = 'http';
  const actualPort = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // not left running behind a failed test
      reject(new Error(`yoom did not start within ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (https?):\/\/[^:]+:(\d+)\//.exec(err);
      if (m) { clearTimeout(timer); scheme = m[1]; resolve(Number(m[2])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`yoom exited (${code}):\n${err}`)); });
  });
  return {
    port: actualPort,
    url: `${scheme}://127.0.0.1:${actualPort}`,
    dataDir: dir,
    proc,
    exited,
    stderr: () => err,
    stdout: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      let timer;
      const hung = new Promise((resolve) => { timer = setTimeout(resolve, stopTimeoutMs, 'hung'); });
      const code = await Promise.race([exited, hung]);
      clearTimeout(timer);
      if (code === 'hung') {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`yoom did not exit within ${stopTimeoutMs} ms of ${signal} (killed):\n${err.slice(-4000)}`);
      }
      return code;
    },
  };
}
