/** Per-publisher sequence numbers: duplicates dropped, gaps counted exactly, topics apart. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SequenceTracker } from '../../src/redis/sequence-tracker.js';

describe('SequenceTracker', () => {
  it('delivers in sequence, drops repeats, counts what is skipped', () => {
    const tracker = new SequenceTracker();
    assert.deepEqual(tracker.check('t', 'a', 5), { deliver: true, missed: 0 }, 'first seen');
    assert.deepEqual(tracker.check('t', 'a', 6), { deliver: true, missed: 0 });
    assert.deepEqual(
      tracker.check('t', 'a', 6),
      { deliver: false, missed: 0 },
      'a retried publish',
    );
    assert.deepEqual(tracker.check('t', 'a', 4), { deliver: false, missed: 0 }, 'older');
    assert.deepEqual(tracker.check('t', 'a', 10), { deliver: true, missed: 3 }, '7, 8, 9 missed');
    assert.deepEqual(tracker.check('t', 'b', 1), { deliver: true, missed: 0 }, 'another node');
    assert.deepEqual(tracker.check('u', 'a', 1), { deliver: true, missed: 0 }, 'another topic');
    tracker.forget('t');
    assert.deepEqual(tracker.check('t', 'a', 20), { deliver: true, missed: 0 }, 'forgotten');
  });
});
