// An InCore WebSocket (wskit/incore) in IoDevice mode, in its own process with a small heap, for
// the hostile suite: it connects with the JSON settings of argv[2] ({ url, readBufferSize }),
// never reads its buffer, and reports over IPC { type: 'open' }, { type: 'error', code, message,
// bytesAvailable } and { type: 'memory', rss, heapUsed } (answer to { type: 'memory' }).
const { WebSocket, State } = await import('wskit/incore');

const report = (message) => process.send?.(message);
process.on('message', (message) => {
  if (message.type === 'memory') {
    globalThis.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    report({ type: 'memory', rss, heapUsed });
  } else if (message.type === 'exit') {
    process.exit(0);
  }
});

const config = JSON.parse(process.argv[2] ?? '{}');
const ws = new WebSocket({
  url: config.url,
  autoConnect: false,
  readBufferSize: config.readBufferSize,
  onStateChanged() {
    if (this.state === State.Open) report({ type: 'open' });
  },
  onErrorStringChanged() {
    if (this.errorString) {
      report({
        type: 'error',
        code: this.error,
        message: this.errorString,
        bytesAvailable: this.bytesAvailable,
      });
    }
  },
});
ws.open();
