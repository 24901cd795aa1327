// How the tests' server scripts (tests/oidc, tests/dpop) read a config
// from their stdin and learn that it ended: each exits when its stdin
// closes, so it never outlives the test that started it.

let ended = false;

/** Whether stdin reached its end while the first line was read. */
export const stdinEnded = () => ended;

/**
 * The first line of stdin (all of it when it has no newline), leaving the
 * stream paused so that its end can still be watched for afterwards.
 * @returns {Promise<string>}
 */
export function readFirstStdinLine() {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl !== -1) {
        cleanup();
        resolve(buf.slice(0, nl));
      }
    };
    const onEnd = () => { ended = true; cleanup(); resolve(buf); };
    const onError = (err) => { cleanup(); reject(err); };
    const cleanup = () => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.off('error', onError);
      process.stdin.pause();
    };
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
    process.stdin.on('error', onError);
  });
}
