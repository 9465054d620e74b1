import { App } from 'cdktf';
import { loadProfiles } from './config';
import { buildApp } from './stacks';

// Every environment in one synth; a bad profile stops here with a message naming the field.
// No construct stack traces in the JSON metadata: nobody reads them, and capturing one per construct costs ~0.3 s.
const app = new App({ stackTraces: false });
buildApp(app, loadProfiles(process.env));
app.synth();
