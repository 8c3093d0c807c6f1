/**
 * `ziptrace/koa`: placeholder while the integration is written.
 */
export {};
