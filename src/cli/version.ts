/** The program version (package.json's), in a module of its own so `--version` loads nothing else. */
export const VERSION = '0.1.0';
