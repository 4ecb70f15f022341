/**
 * The rollback guard alone: what it remembers, for how long, and what it
 * counts (see src/session/rollback-guard.ts for why it exists).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageDigest, RollbackGuard } from '../../src/session/rollback-guard.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('RollbackGuard', () => {
  it('recognises a DUP re-send of a completed message, and counts it', () => {
    const g = new RollbackGuard(4);
    assert.equal(g.isRollbackCopy(1, false, 't', bytes('a')), false);
    g.released(1);
    assert.equal(g.isRollbackCopy(1, true, 't', bytes('a')), true);
    assert.equal(g.dropped, 1);
  });

  it('remembers only the last `capacity` completed messages', () => {
    const g = new RollbackGuard(2);
    for (const id of [1, 2, 3]) {
      g.isRollbackCopy(id, false, 't', bytes(`m${id}`));
      g.released(id);
    }
    assert.equal(g.isRollbackCopy(1, true, 't', bytes('m1')), false, 'the oldest was forgotten');
    assert.equal(g.isRollbackCopy(3, true, 't', bytes('m3')), true);
  });

  it('forgets a completed message once a new message reuses its id', () => {
    const g = new RollbackGuard(8);
    g.isRollbackCopy(5, false, 't', bytes('a'));
    g.released(5);
    assert.equal(g.isRollbackCopy(5, false, 't', bytes('b')), false);
    g.released(5);
    assert.equal(g.isRollbackCopy(5, true, 't', bytes('b')), true);
    g.released(5);
    assert.equal(g.isRollbackCopy(5, true, 't', bytes('a')), false, 'the first message of id 5 is gone');
  });

  it('remembers nothing for an abandoned (refused) flow, nor when off', () => {
    const g = new RollbackGuard(8);
    g.isRollbackCopy(1, false, 't', bytes('a'));
    g.abandoned(1);
    g.released(1);
    assert.equal(g.isRollbackCopy(1, true, 't', bytes('a')), false);
    const off = new RollbackGuard(0);
    off.isRollbackCopy(1, false, 't', bytes('a'));
    off.released(1);
    assert.equal(off.isRollbackCopy(1, true, 't', bytes('a')), false);
    assert.equal(off.dropped, 0);
  });

  it('tells a new message under an open id from a re-send, and counts it', () => {
    const g = new RollbackGuard(4);
    g.isRollbackCopy(7, false, 't', bytes('a'));
    assert.equal(g.reusesOpenId(7, 't', bytes('a')), false, 'the same message: a re-send');
    assert.equal(g.reusesOpenId(7, 't', bytes('b')), true);
    assert.equal(g.reusesOpenId(7, 't', bytes('b')), false, 'the new one is now the open message');
    assert.equal(g.reused, 1);
    assert.equal(
      g.reusesOpenId(9, 't', bytes('a')),
      false,
      'an id with no known message (a store restored it)',
    );
    const off = new RollbackGuard(0);
    off.isRollbackCopy(7, false, 't', bytes('a'));
    assert.equal(off.reusesOpenId(7, 't', bytes('b')), false);
  });

  it('digests topic and payload apart', () => {
    assert.notEqual(messageDigest('ab', bytes('c')), messageDigest('a', bytes('bc')));
    assert.notEqual(messageDigest('t', new Uint8Array([0])), messageDigest('t', new Uint8Array([0, 0])));
    assert.notEqual(messageDigest('t', bytes('x')), messageDigest('u', bytes('x')));
    assert.equal(messageDigest('t/é', bytes('x')), messageDigest('t/é', bytes('x')));
  });
});
