/**
 * Topic names, topic filters, matching and shared subscriptions, with the examples of
 * MQTT 5.0 section 4.7 (3.1.1 section 4.7 has the same ones) and section 4.8.2, plus
 * fast-check properties against simple reference implementations that split on '/'.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  isValidTopicFilter,
  parseSharedSubscription,
  topicMatches,
  validateTopicFilter,
  validateTopicName,
} from '../../src/codec/index.ts';
import { MqttError } from '../../src/errors.ts';
import { topicFilter, topicName } from './arbitraries.ts';

function throwsCode(fn: () => void, code: string, side: 'local' | 'remote', reasonCode: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MqttError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.side, side);
    assert.equal(e.reasonCode, reasonCode);
    return true;
  });
}

// --- reference implementations ---------------------------------------------------------------------

function refValidName(t: string): boolean {
  return t.length > 0 && !/[+#\0]/.test(t);
}

function refValidFilter(f: string): boolean {
  if (f.includes('\0')) return false; // anywhere, the share name included [MQTT-4.7.3-2]
  if (f.startsWith('$share/')) {
    const rest = f.slice('$share/'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || /[+#]/.test(rest.slice(0, slash))) return false;
    f = rest.slice(slash + 1);
  }
  if (f.length === 0) return false;
  const levels = f.split('/');
  return levels.every((l, i) => !/[+#]/.test(l) || l === '+' || (l === '#' && i === levels.length - 1));
}

function refMatches(filter: string, topic: string): boolean {
  if (filter.startsWith('$share/')) filter = filter.split('/').slice(2).join('/');
  const f = filter.split('/');
  const t = topic.split('/');
  // A wildcard at the first level does not match a topic starting with '$' [MQTT-4.7.2-1].
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // this level (even absent: the parent matches) and all below
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

// --- the spec's examples ----------------------------------------------------------------------------

describe('topicMatches: MQTT 5 section 4.7 examples', () => {
  const cases: [string, string, boolean][] = [
    // 4.7.1.2 multi-level wildcard
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/tennis/player1/#', 'sport/tennis/player2', false],
    ['sport/#', 'sport', true],
    ['sport/#', 'sport/', true],
    ['sport/#', 'sports', false],
    ['#', 'anything/at/all', true],
    ['#', '/', true],
    // 4.7.1.3 single-level wildcard
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player2', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+', 'finance', true],
    ['+', 'finance/', false],
    ['+', '/finance', false],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+/tennis/#', 'sport/tennis/player1/ranking', true],
    ['sport/+/player1', 'sport/tennis/player1', true],
    ['sport/+/player1', 'sport/tennis/player2', false],
    // 4.7.2 topics beginning with $
    ['#', '$SYS/monitor/Clients', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['+', '$SYS', false],
    // 4.7.3 case-sensitive, spaces allowed, leading and trailing '/' make distinct topics
    ['ACCOUNTS', 'Accounts', false],
    ['Accounts payable', 'Accounts payable', true],
    ['/finance', 'finance', false],
    ['finance/', 'finance', false],
    ['/', '/', true],
    ['a//b', 'a//b', true],
    ['a/+/b', 'a//b', true],
    // no prefix matches
    ['sport/tennis', 'sport/tennis/player1', false],
    ['sport/tennis/player1', 'sport/tennis', false],
    ['sport/tennis', 'sport/tenni', false],
    ['sport/tenni', 'sport/tennis', false],
  ];
  for (const [filter, topic, expected] of cases) {
    it(`'${filter}' ${expected ? 'matches' : 'does not match'} '${topic}'`, () => {
      assert.equal(topicMatches(filter, topic), expected);
      assert.equal(refMatches(filter, topic), expected, 'the reference agrees');
    });
  }
});

describe('topic filter validity (4.7.1, 4.7.3, 4.8.2)', () => {
  const valid = [
    '#',
    '+',
    'sport/tennis/#',
    'sport/tennis/player1/#',
    '+/tennis/#',
    'sport/+/player1',
    '+/+',
    '/+',
    '/',
    '//',
    '$SYS/#',
    '$SYS/monitor/+',
    'Accounts payable',
    'sp😀rt/ü',
    '$share/g/a/+',
    '$share/consumer1/sport/tennis/+',
    '$share/g/#',
    '$share/g//',
    '$share',
  ];
  const invalid = [
    '',
    'sport/tennis#',
    'sport/tennis/#/ranking',
    'sport+',
    'sport/+tennis',
    '#/',
    '#/a',
    '++',
    'a/##',
    'a\0b',
    '$share/g',
    '$share/',
    '$share//a',
    '$share/g+/a',
    '$share/g#/a',
    '$share/g/',
    '$share/g/a#',
    '$share/\0/a',
  ];
  for (const f of valid) {
    it(`valid: ${JSON.stringify(f)}`, () => {
      assert.equal(isValidTopicFilter(f), true);
      validateTopicFilter(f);
      assert.equal(refValidFilter(f), true, 'the reference agrees');
    });
  }
  for (const f of invalid) {
    it(`invalid: ${JSON.stringify(f)}`, () => {
      assert.equal(isValidTopicFilter(f), false);
      throwsCode(() => validateTopicFilter(f), 'TOPIC_FILTER_INVALID', 'local', 0x8f);
      throwsCode(() => validateTopicFilter(f, 'remote'), 'TOPIC_FILTER_INVALID', 'remote', 0x8f);
      assert.equal(refValidFilter(f), false, 'the reference agrees');
    });
  }
});

describe('topic name validity (4.7.3, 3.3.2.1)', () => {
  for (const t of ['a', '/', '//', 'sport/tennis/player1', ' ', '$SYS/x', 'a b/ç/😀', 'a$b']) {
    it(`valid: ${JSON.stringify(t)}`, () => validateTopicName(t));
  }
  for (const t of ['', '+', '#', 'a/+', 'a/#', 'a+b', 'sport/tennis#', 'a\0b']) {
    it(`invalid: ${JSON.stringify(t)}`, () => {
      throwsCode(() => validateTopicName(t), 'TOPIC_NAME_INVALID', 'local', 0x90);
      throwsCode(() => validateTopicName(t, 'remote'), 'TOPIC_NAME_INVALID', 'remote', 0x90);
    });
  }
});

describe('shared subscriptions (4.8.2)', () => {
  it('parseSharedSubscription splits $share/{group}/{filter}', () => {
    assert.deepEqual(parseSharedSubscription('$share/g/a/+'), { group: 'g', filter: 'a/+' });
    assert.deepEqual(parseSharedSubscription('$share/consumer1/sport/tennis/+'), {
      group: 'consumer1',
      filter: 'sport/tennis/+',
    });
    assert.deepEqual(parseSharedSubscription('$share/g/#'), { group: 'g', filter: '#' });
    assert.equal(parseSharedSubscription('$share/g'), undefined);
    assert.equal(parseSharedSubscription('a/b'), undefined);
    assert.equal(parseSharedSubscription('$SHARE/g/a'), undefined, 'case-sensitive');
  });

  it('a shared subscription matches as its inner filter', () => {
    assert.equal(topicMatches('$share/g/a/+', 'a/b'), true);
    assert.equal(topicMatches('$share/g/a/+', 'a/b/c'), false);
    assert.equal(topicMatches('$share/consumer1/sport/tennis/+', 'sport/tennis/player1'), true);
    assert.equal(topicMatches('$share/g/#', 'x/y'), true);
    assert.equal(topicMatches('$share/g/#', '$SYS/x'), false);
    assert.equal(topicMatches('$share/g/$SYS/#', '$SYS/x'), true);
    assert.equal(topicMatches('$share/g', 'g'), false);
  });
});

// --- properties ---------------------------------------------------------------------------------------

/** Strings over a tiny alphabet, so that wildcards, separators, '$' and equal levels collide often. */
const tiny = (units: string[], maxLength = 10) => fc.string({ unit: fc.constantFrom(...units), maxLength });
const tinyName = tiny(['a', 'b', '/', '$', 'ü', '😀']).filter(refValidName);
const tinyFilter = tiny(['a', 'b', '/', '+', '#', '$', '😀', '$share/', 'g']).filter(refValidFilter);

/** A topic the filter's wildcards are filled in for: '+' by one level, '#' by zero to three. */
const topicFor = (filter: string) =>
  fc
    .tuple(fc.array(fc.constantFrom('a', 'b', '', '$x'), { minLength: 8, maxLength: 8 }), fc.nat(3))
    .map(([fill, extra]) => {
      const inner = parseSharedSubscription(filter)?.filter ?? filter;
      let k = 0;
      return inner
        .split('/')
        .flatMap((l) => (l === '+' ? [fill[k++]] : l === '#' ? fill.slice(k, k + extra) : [l]))
        .join('/');
    });

describe('topic properties against the reference', () => {
  it('topicMatches agrees with the split-on-slash reference (tiny alphabet)', () => {
    fc.assert(
      fc.property(tinyFilter, tinyName, (f, t) => {
        assert.equal(topicMatches(f, t), refMatches(f, t), `${JSON.stringify(f)} vs ${JSON.stringify(t)}`);
      }),
      { numRuns: 20_000 },
    );
  });

  it('topicMatches agrees with the reference on topics built from the filter', () => {
    fc.assert(
      fc.property(
        topicFilter.chain((f) => fc.tuple(fc.constant(f), topicFor(f))),
        ([f, t]) => {
          fc.pre(refValidName(t));
          assert.equal(topicMatches(f, t), refMatches(f, t), `${JSON.stringify(f)} vs ${JSON.stringify(t)}`);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('topicMatches agrees with the reference on arbitrary unicode filters and names', () => {
    fc.assert(
      fc.property(topicFilter, topicName, (f, t) => {
        assert.equal(topicMatches(f, t), refMatches(f, t));
      }),
      { numRuns: 3000 },
    );
  });

  it('a topic name matches itself as a filter, and "#" matches every non-$ topic', () => {
    fc.assert(
      fc.property(fc.oneof(topicName, tinyName), (t) => {
        assert.equal(topicMatches(t, t), true);
        assert.equal(topicMatches('#', t), !t.startsWith('$'));
      }),
      { numRuns: 2000 },
    );
  });

  it('isValidTopicFilter and validateTopicName agree with the references', () => {
    const any = tiny(['a', '/', '+', '#', '$', '\0', '$share/', 'g', 'ü'], 8);
    fc.assert(
      fc.property(any, (s) => {
        assert.equal(isValidTopicFilter(s), refValidFilter(s), `filter ${JSON.stringify(s)}`);
        let nameOk = true;
        try {
          validateTopicName(s);
        } catch {
          nameOk = false;
        }
        assert.equal(nameOk, refValidName(s), `name ${JSON.stringify(s)}`);
      }),
      { numRuns: 20_000 },
    );
  });

  it('every generated filter is valid and every generated name is a valid name', () => {
    fc.assert(
      fc.property(topicFilter, topicName, (f, t) => {
        assert.equal(isValidTopicFilter(f), true, f);
        validateTopicName(t);
      }),
      { numRuns: 1000 },
    );
  });
});
