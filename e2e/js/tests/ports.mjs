// A free TCP port on loopback, for a process a test starts. No dependencies: the web page's
// tests (web/tests/) use it too.
import { createServer } from 'node:net';

export function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
