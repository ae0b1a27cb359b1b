/**
 * The interactive session in a real terminal (tmux): the prompt, typed messages and their
 * echoes, slash commands, history, and `wskit` with no arguments. Skipped without tmux.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cleanup, hasTmux, STAMP, startEchoServer, T, Tmux, wskitCommand } from './helpers.js';

/** The last two lines after a session closed with 1000: nothing else on them (no prompt). */
const CLOSED_CLEANLY = new RegExp(
  `^${STAMP} \\* connection closed: 1000 \\(normal\\)\\n\\[exit 0\\]$`,
  'm',
);

const skip = hasTmux ? false : 'tmux is not installed (Debian: apt-get install tmux)';

describe('wskit in a terminal', { skip }, () => {
  it('connect: prompt, messages with time stamps, slash commands, history, /quit', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup);
      const tmux = new Tmux(wskitCommand('connect', url), cleanup);
      await tmux.waitFor(
        /connected to ws:\/\/127\.0\.0\.1:\d+\/; type a message, \/help for commands\n> ?$/m,
      );

      tmux.send('-l', 'hello terminal');
      tmux.send('Enter');
      let screen = await tmux.waitFor(new RegExp(`${STAMP} < hello terminal`));
      // The typed line is replaced by the sent message: no "> hello terminal" left behind.
      assert.match(
        screen,
        new RegExp(`${STAMP} > hello terminal\\n${STAMP} < hello terminal\\n> ?$`, 'm'),
      );
      assert.doesNotMatch(screen, /^> hello terminal/m);

      tmux.send('-l', '/ping abc');
      tmux.send('Enter');
      await tmux.waitFor(new RegExp(`${STAMP} < pong "abc" \\([\\d.]+ ms\\)`));

      tmux.send('-l', '/binary 48 69 00 ff');
      tmux.send('Enter');
      await tmux.waitFor(new RegExp(`${STAMP} < \\[binary, 4 bytes\\] 486900ff`));

      tmux.send('-l', '//slash');
      tmux.send('Enter');
      await tmux.waitFor(new RegExp(`${STAMP} < /slash`));

      tmux.send('-l', '/nope');
      tmux.send('Enter');
      await tmux.waitFor(/! unknown command \/nope: \/help lists the commands/);

      tmux.send('-l', '/help');
      tmux.send('Enter');
      await tmux.waitFor(/\* commands:\n\s+\/ping \[data\]/);

      // History: Up recalls the last message sent (after the commands).
      for (let i = 0; i < 3; i++) tmux.send('Up');
      tmux.send('Enter');
      screen = await tmux.waitFor(/< \/slash\n(.*\n)*.*< \/slash\n/);

      tmux.send('-l', '/close 4000 done here');
      tmux.send('Enter');
      screen = await tmux.waitFor(/\[exit \d+\]/);
      assert.match(screen, /closing with 4000 \(application\) "done here"/);
      // The server echoes the code (RFC 6455 section 5.5.1), without the reason.
      assert.match(screen, /connection closed: 4000 \(application\)\n/);
      assert.match(screen, /\[exit 0\]/);
    } finally {
      await cleanup.run();
    }
  });

  it('connect: a message that arrives while typing keeps the line being edited', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url, server } = await startEchoServer(cleanup);
      const tmux = new Tmux(wskitCommand('connect', url), cleanup);
      await tmux.waitFor(/connected to .*\n> ?$/m);
      tmux.send('-l', 'half a thou');
      await tmux.waitFor(/^> half a thou$/m);
      server.broadcast('news from the server');
      const screen = await tmux.waitFor(
        new RegExp(`${STAMP} < news from the server\\n> half a thou$`, 'm'),
      );
      assert.doesNotMatch(screen, /^> half a thou\n.*news/m);
      tmux.send('-l', 'ght');
      tmux.send('Enter');
      await tmux.waitFor(new RegExp(`${STAMP} < half a thought`));
      tmux.send('C-d');
      const end = await tmux.waitFor(/\[exit \d+\]/);
      assert.match(end, CLOSED_CLEANLY);
    } finally {
      await cleanup.run();
    }
  });

  it('wskit with no arguments: explains, echoes a message, /quit exits 0', T, async () => {
    const cleanup = new Cleanup();
    try {
      const tmux = new Tmux(wskitCommand(), cleanup);
      const first = await tmux.waitFor(/\n> ?$/m);
      assert.match(
        first,
        /^wskit: no URL given: talking to a local echo server at ws:\/\/127\.0\.0\.1:\d+\/ \(wskit --help for more\)$/m,
      );
      tmux.send('-l', 'is anyone there?');
      tmux.send('Enter');
      await tmux.waitFor(new RegExp(`${STAMP} < is anyone there\\?`));
      tmux.send('-l', '/quit');
      tmux.send('Enter');
      const screen = await tmux.waitFor(/\[exit \d+\]/);
      assert.match(screen, CLOSED_CLEANLY);
    } finally {
      await cleanup.run();
    }
  });

  it('Ctrl-C closes the session with 1000', T, async () => {
    const cleanup = new Cleanup();
    try {
      const { url } = await startEchoServer(cleanup);
      const tmux = new Tmux(wskitCommand('connect', url), cleanup);
      await tmux.waitFor(/connected to .*\n> ?$/m);
      tmux.send('C-c');
      const screen = await tmux.waitFor(/\[exit \d+\]/);
      assert.match(screen, CLOSED_CLEANLY);
    } finally {
      await cleanup.run();
    }
  });
});
