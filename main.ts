import { App } from 'cdktf';
import { loadProfiles, ProfileError } from './config';
import { buildApp } from './stacks';

// Every environment in one synth; a bad profile stops here, before any construct, with one message that
// names every problem (`npm run synth` and `cdktf synth` both print it, with no stack trace) and exit code 1.
// No construct stack traces in the JSON metadata: nobody reads them, and capturing one per construct costs ~0.3 s.
let profiles;
try {
  profiles = loadProfiles(process.env);
} catch (err) {
  if (!(err instanceof ProfileError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
const app = new App({ stackTraces: false });
buildApp(app, profiles);
app.synth();
