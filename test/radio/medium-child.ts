/**
 * A radio in another process, for medium-socket.test.ts: attaches to the
 * medium served at argv[2] as argv[3], echoes every frame it hears with
 * "echo:" in front, and leaves when it hears "bye". Prints "ready" once
 * listening, and its stats as JSON before it exits.
 */
import { connectMedium } from '../../src/radio/medium-socket.ts';

const [path, name] = process.argv.slice(2);
const radio = await connectMedium(path, { name, position: { x: 50, y: 0 } });
const text = new TextDecoder();
const bytes = new TextEncoder();
await radio.open({
  receive(frame) {
    const message = text.decode(frame);
    if (message === 'bye') {
      void radio.fetchStats().then(async (stats) => {
        console.log(JSON.stringify({ stats, local: radio.stats }));
        await radio.close();
      });
      return;
    }
    void radio.send(bytes.encode(`echo:${message}`));
  },
  close(error) {
    console.error(`medium gone: ${error?.message}`);
    process.exit(3);
  },
});
console.log('ready');
