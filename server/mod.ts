/**
 * The self-hostable MeshAgent room server.
 *
 * @module
 */
