// Making and keeping projects from the template: `mlskel new` and `init` (create.ts), `mlskel upgrade` (upgrade.ts).
export * from './create.js'
export { upgradeProject, type UpgradeAction, type UpgradeChange, type UpgradeResult } from './upgrade.js'
