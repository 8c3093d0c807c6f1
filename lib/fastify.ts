/**
 * `ziptrace/fastify`: placeholder while the integration is written.
 */
export {};
