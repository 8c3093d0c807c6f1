/**
 * `ziptrace/express`: placeholder while the integration is written.
 */
export {};
