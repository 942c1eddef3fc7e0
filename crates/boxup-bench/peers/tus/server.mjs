// A stock tus server for the upload comparison: @tus/server's own http
// listener with @tus/file-store, configured as its README shows and
// nothing tuned, so that the numbers are what a self-hosted tus gets.
//
//   node server.mjs PORT DIRECTORY
//
// Uploads land in DIRECTORY as a file named by the upload id (plus ID.json,
// the upload's metadata). Prints one line once it listens; SIGTERM ends it.
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [port, directory] = process.argv.slice(2);
if (!port || !directory) {
  console.error('usage: node server.mjs PORT DIRECTORY');
  process.exit(2);
}

const server = new Server({
  path: '/files',
  datastore: new FileStore({ directory }),
});
const listener = server.listen({ host: '127.0.0.1', port: Number(port) }, () => {
  console.log(`tus server listening on http://127.0.0.1:${port}/files`);
});
listener.on('error', (err) => {
  console.error(`tus server: ${err.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => listener.close(() => process.exit(0)));
