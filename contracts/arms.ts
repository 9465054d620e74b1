/**
 * An A/B arm's name: `npm run load -- --arm <name>=<url>` (tools/load) and local mode's `LOCAL_ARMS`
 * (scripts/local.ts) take names by this one rule: 1-32 of a-z, 0-9 and -, not starting with a hyphen, which
 * would read as an option.
 */
export const ARM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
