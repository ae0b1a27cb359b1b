// A forked child process spoken to over IPC: it first sends { ready, ... }; then each request
// { id, ... } gets one answer { id, ok, ... }. Unsolicited { error } messages are collected in
// `errors`. If the child dies, pending and later requests fail instead of hanging.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('..', import.meta.url));

export class Child {
  /**
   * Starts `bench/<script>` with `args` (and `env` added to ours; with `fileLimit`, its open-file
   * limit raised to that); resolves with the child once it is ready. */
  static async start(name, script, args = [], execArgv = [], env = {}, fileLimit = 0) {
    const options = { execArgv, env: { ...process.env, ...env } };
    if (fileLimit > 0) {
      // Through a shell that raises its file limit, then becomes node (the IPC channel is kept).
      options.execPath = '/bin/sh';
      options.execArgv = [
        '-c',
        `ulimit -n ${fileLimit} && exec "$0" "$@"`,
        process.execPath,
        ...execArgv,
      ];
    }
    const child = new Child(name, fork(`${benchDir}${script}`, args, options));
    child.ready = await child.#readyPromise;
    return child;
  }

  name;
  ready = null;
  errors = [];
  exited = false;
  #process;
  #nextId = 1;
  #pending = new Map();
  #readyPromise;

  constructor(name, childProcess) {
    this.name = name;
    this.#process = childProcess;
    this.#readyPromise = new Promise((resolve, reject) => {
      childProcess.on('message', (message) => {
        if (message.ready) resolve(message);
        else if (message.error !== undefined && message.id === undefined)
          this.errors.push(message.error);
        else this.#answer(message);
      });
      childProcess.on('exit', (code, signal) => {
        this.exited = true;
        // The child's last report, usually why it died (it is also left in `errors`).
        const last = this.errors.at(-1);
        const error = new Error(
          `${name} exited (code ${code}, signal ${signal})` +
            (last === undefined ? '' : `; its last error: ${String(last).split('\n')[0]}`),
        );
        reject(error);
        for (const { reject: rejectRequest } of this.#pending.values()) rejectRequest(error);
        this.#pending.clear();
      });
    });
  }

  /** Sends a request; resolves with the answer, rejects if the child reports failure or dies. */
  request(message) {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#process.send({ ...message, id });
    });
  }

  #answer(message) {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message);
    else pending.reject(new Error(`${this.name}: ${message.error}`));
  }

  /** Disconnects (children exit on disconnect) and waits for the exit; kills after 5 s. */
  async stop() {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.#process.once('exit', resolve));
    this.#process.disconnect();
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
