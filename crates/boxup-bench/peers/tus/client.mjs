// Uploads one file with tus-js-client, the reference tus client, for the
// upload comparison.
//
//   node client.mjs FILE ENDPOINT CHUNK_SIZE
//
// The file is given as an fs.ReadStream with a path: tus-js-client then
// re-opens the file for each chunk (its FileSource) rather than buffering
// a stream, the cheapest input it supports in Node. Chunks go one after
// the other: parallelUploads needs the concatenation extension, which
// @tus/file-store does not offer. Retries are off so that a failure shows
// as a failure instead of a slow run. Prints the upload URL; exits
// non-zero on any error.
import fs from 'node:fs';
import path from 'node:path';
import { Upload } from 'tus-js-client';

const [file, endpoint, chunkSize] = process.argv.slice(2);
if (!file || !endpoint || !chunkSize) {
  console.error('usage: node client.mjs FILE ENDPOINT CHUNK_SIZE');
  process.exit(2);
}

const upload = new Upload(fs.createReadStream(file), {
  endpoint,
  chunkSize: Number(chunkSize),
  retryDelays: null,
  metadata: { filename: path.basename(file) },
  onError(err) {
    console.error(`tus upload failed: ${err.message ?? err}`);
    process.exit(1);
  },
  onSuccess() {
    console.log(upload.url);
  },
});
upload.start();
