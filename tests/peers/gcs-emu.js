// Starts the firebase-tools@13 Cloud Storage emulator alone, offline, as a
// GCS JSON API server for the backend conformance suite.
//   PORT=19199 node gcs-emu.js     (FT: path of the firebase-tools package)
// The stock CLI downloads a Java rules runtime at start; the GCS ("admin")
// routes never consult it, so it is replaced by no-ops here. Our GCS client
// uploads with uploadType=media, so the emulator's multipart parser (which
// rejects parts without Content-Type) needs no patch.
'use strict';
const path = require('path');

const ft = process.env.FT || path.join(__dirname, 'node_modules', 'firebase-tools');
const port = Number(process.env.PORT || 9199);

const { StorageEmulator } = require(path.join(ft, 'lib/emulator/storage'));
const { EmulatorRegistry } = require(path.join(ft, 'lib/emulator/registry'));

const emu = new StorageEmulator({
  projectId: 'demo-test', host: '127.0.0.1', port, auto_download: false, rules: [],
});
emu._rulesRuntime.start = async () => {};
emu._rulesRuntime.stop = async () => {};
emu._rulesManager = { start: async () => [], stop: async () => {}, getRuleset: () => undefined };

EmulatorRegistry.start(emu).then(
    () => console.log(`gcs-json-api listening on 127.0.0.1:${port}`),
    (err) => { console.error(err); process.exit(1); });
