import packageJson from '../../package.json' with { type: 'json' };

/** portlb's version, from package.json (the bundle inlines it). */
export const VERSION: string = packageJson.version;
