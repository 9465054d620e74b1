/**
 * The contracts between the layers: every bound, pattern and name that the profile schema (config/), the
 * infrastructure (modules/, components/), the functions (functions/) and the tools (tools/) must agree on,
 * written once. Dependency-free on purpose (no package, no other folder of the project), so the function
 * bundles and the tools can import it without pulling in cdktf or the schema.
 * __tests__/contracts/ walks the layers and shows they accept and refuse the same values.
 */
export * from './arms';
export * from './aws';
export * from './metrics';
export * from './outputs';
export * from './tenants';
