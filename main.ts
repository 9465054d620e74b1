import { App } from 'cdktf';
import { loadProfiles } from './config';
import { buildApp } from './stacks';

// Every environment in one synth; a bad profile stops here with a message naming the field.
const app = new App();
buildApp(app, loadProfiles(process.env));
app.synth();
